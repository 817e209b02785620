"""(being written)"""
FORMS: dict = {}
