def register_personal_data() -> None:
    pass
