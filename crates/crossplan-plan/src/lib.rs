//! crossplan-plan
