"""Infrastructure: ZenML stacks, the Model Control Plane, local services, the Bento export.

This layer may import ZenML and BentoML; the domain package ``accidents`` never imports it.
"""
