"""One place for tests that shrink a recipe: point its pipeline at another input size."""


def resize_pipeline(pipeline, input_size, codec) -> None:
    """Set ``input_size`` (w, h), the matching box aspect ratio and the target ``codec`` on the
    steps of a config's ``pipeline`` list, in place."""
    w, h = input_size
    for step in pipeline:
        if step.type == 'GetBBoxCenterScale':
            step.aspect_ratio = w / h
        if step.type == 'TopdownAffine':
            step.input_size = (w, h)
        if step.type == 'GenerateTarget':
            step.encoder = codec
