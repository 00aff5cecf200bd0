def generate_identity_bulk(*a, **k):
    raise NotImplementedError
