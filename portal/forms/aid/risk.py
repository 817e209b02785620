"""Risk control (风险管控): its process is not part of this version; it has no steps and no one starts it."""
FORMS: dict = {}
