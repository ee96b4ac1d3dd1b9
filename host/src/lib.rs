//! otai host library.
