"""(being written)"""
APPLY_KEY = "judicial_aid_apply"
START_LANES: set[str] = set()
STEPS: dict = {}


def start_data(case) -> dict:
    return {}
