//! crossplan-store
