//! End-to-end tests: the real `otai` library loading real plugin `.so` files.
