"""One module per Azure service; each turns its part of the plan into bodies and SDK calls."""
