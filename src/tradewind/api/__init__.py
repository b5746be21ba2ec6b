"""The stable REST API, ``/api/v1``: Airflow 2's contract, served by FastAPI.

The contract is Airflow 2.10's OpenAPI document (shipped as ``openapi/v1.yaml`` and
served at ``/api/v1/openapi.yaml``): paths, parameters, field names, status codes and
RFC 7807 error bodies are Airflow's, so ``apache-airflow-client``, curl scripts and
Postman collections written for Airflow work unchanged.

Owns:
    - ``app``: :func:`~tradewind.api.app.create_api_app`, the FastAPI application.
    - ``problems``: domain errors -> RFC 7807 problem documents, at the route boundary.
    - ``auth/``: authentication backends (deny_all, basic_auth, session, token) and the
      middleware that runs them before anything else sees a request.
    - ``deps``: what a route asks for: the current principal and its permission check,
      the database (the route owns its transaction; writes are audited), pagination.
    - ``schemas/``: pydantic models named as the spec's components (``DAGRun``, ``Pool``);
      rows become schemas only through their ``from_row``.
    - ``routes/``: one router per resource, thin: parse -> service/repository -> schema.

May import: services, security, storage, serialization, config, errors. Never
``dag_processing`` or ``execution``: the API reads serialized DAGs and never imports
user code.
"""
