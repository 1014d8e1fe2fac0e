"""The custom-field (EAV) engine; see ../shared/ARCHITECTURE.md. Filled in by the custom-fields issue."""
