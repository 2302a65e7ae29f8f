//! crossplan-cache
