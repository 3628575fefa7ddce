//! Importers, one folder per format. Each turns [`crate::Input`]s into typed records plus
//! [`crate::Diagnostic`]s.
