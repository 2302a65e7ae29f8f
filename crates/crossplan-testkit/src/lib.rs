//! crossplan-testkit

pub mod server;
