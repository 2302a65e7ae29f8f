//! crossplan-host
