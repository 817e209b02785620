"""Risk control (风险管控): its process is not part of this version; it has no steps and no one starts it."""
APPLY_KEY = "risk_apply"
START_LANES: set[str] = set()
STEPS: dict = {}


def start_data(case) -> dict:
    return {}
