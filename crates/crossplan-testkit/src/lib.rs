//! crossplan-testkit
