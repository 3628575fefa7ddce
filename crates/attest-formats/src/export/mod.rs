//! Exporters, one folder per format. Each turns typed records into bytes.
