"""``repo_activity`` — source-code platform audit events: who cloned, fetched,
downloaded or changed access to which repository, from where, with what credential
(OCSF API Activity, class 6003, narrowed to code repositories: a repository is a crown
jewel of its own kind, with its own verbs).

From the GitHub Enterprise audit log as it is streamed (JSON lines to S3, Azure Blob,
Splunk, Datadog…) and as ``GET /orgs/{org}/audit-log`` / ``/enterprises/{e}/audit-log``
return it. Git events (``git.clone``, ``git.fetch``, ``git.push``) appear only in the
streamed log and the API — they are not in the web UI's export.

=========================  ===================================================
column                     meaning
=========================  ===================================================
``time``                   ``@timestamp`` (epoch milliseconds) (UTC)
``source``                 ``github``
``action``                 ``git.clone``, ``repo.download_zip``,
                           ``personal_access_token.create``,
                           ``org.add_outside_collaborator`` … as logged
``actor``                  the acting login, lower case
``actor_id``
``actor_ip``
``actor_country``          ``actor_location.country_code`` (ISO 3166-1 alpha-2)
``user_agent``
``org``                    organisation login, lower case
``repo``                   ``org/name``, lower case
``repo_visibility``        ``private`` | ``internal`` | ``public``
``access_type``            ``programmatic_access_type`` (``Personal access token
                           (classic)``, ``Fine-grained personal access token``,
                           ``OAuth access token``, ``GitHub App server-to-server
                           token``…); NULL for a web session
``token_id``               the token's id (``token_id``), when one was used
``hashed_token``           ``hashed_token`` (base64 SHA-256 of the token)
``transport``              ``transport_protocol_name``: ``http`` | ``ssh``
``target_user``            the login acted on (``user``: the collaborator added, the
                           member whose key this is), lower case
``business``               the enterprise
``event_id``               ``_document_id``
``actor_user``             the person behind the login: the identity key of
                           ``external_identity_nameid`` (the SAML / SCIM identity
                           an organisation with SSO links to each login); NULL
                           without SSO
=========================  ===================================================
"""

import pyarrow as pa

from crownwatch.tables.provenance import FIELDS as PROVENANCE

# actions that copy a repository's content out
READ_ACTIONS = ("git.clone", "git.fetch", "repo.download_zip")

SCHEMA = pa.schema(
    [
        pa.field("time", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("action", pa.string()),
        pa.field("actor", pa.string()),
        pa.field("actor_id", pa.string()),
        pa.field("actor_ip", pa.string()),
        pa.field("actor_country", pa.string()),
        pa.field("user_agent", pa.string()),
        pa.field("org", pa.string()),
        pa.field("repo", pa.string()),
        pa.field("repo_visibility", pa.string()),
        pa.field("access_type", pa.string()),
        pa.field("token_id", pa.string()),
        pa.field("hashed_token", pa.string()),
        pa.field("transport", pa.string()),
        pa.field("target_user", pa.string()),
        pa.field("business", pa.string()),
        pa.field("event_id", pa.string()),
        pa.field("actor_user", pa.string()),
        *PROVENANCE,
    ]
)
