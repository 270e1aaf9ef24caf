"""The demo hospitals' FHIR servers: their endpoints and citizens' connections (seeded), and the servers
themselves (``manage.py demo_fhir``, the ``fhir`` process of the Procfile).

Each demo hospital runs a real sekmet-fhir server on loopback, loaded with carebundle's synthetic records
for the connected citizens (under each citizen's patient number and name) and, at the first hospital, a few
JP Core examples. A demo citizen pressing "sync now" pulls them through the real sync path: SMART Backend
Services with RS384 at the first hospital, ES384 at the second, no authorisation at the third.
sekmet-fhir and carebundle are development packages: nothing here imports them unless the servers run.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.conf import settings

from config.env import env_int
from phr.crypto.datakeys import decrypt
from phr.demo import data
from phr.fhir import endpoints
from phr.models import Connection, FhirEndpoint, Identifier, Organisation, Person
from phr.models.fhir import AuthMode, ConnectionKind, SigningAlg
from phr.services import identifier_context, record_audit

if TYPE_CHECKING:
    from phr.demo.seed import SeedReport

logger = logging.getLogger(__name__)

CLIENT_ID = "mamori-demo"
# Citizens 1 to 10 (citizen01@… to citizen10@…) are connected to every demo hospital they have a number at.
CONNECTED_CITIZENS = 10
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "jp-core"
KANA_EXTENSION = "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation"
CAREBUNDLE_PROFILES = ("type2_diabetes", "hypertension", "ckd_stage3", "anaemia", "healthy")


@dataclass(frozen=True)
class DemoHospital:
    index: int
    auth_mode: str
    signing_alg: str

    @property
    def port(self) -> int:
        return env_int("MAMORI_DEMO_FHIR_PORT", 8091, minimum=1024, maximum=65000) + self.index

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/fhir"

    @property
    def slug(self) -> str:
        return f"hospital{self.index + 1}"


HOSPITALS = (
    DemoHospital(0, AuthMode.BACKEND_SERVICES, SigningAlg.RS384),
    DemoHospital(1, AuthMode.BACKEND_SERVICES, SigningAlg.ES384),
    DemoHospital(2, AuthMode.NONE, SigningAlg.RS384),
)


def demo_dir() -> Path:
    return Path(settings.VAR_DIR) / "demo-fhir"


def private_key_path(alg: str) -> Path:
    """The demo client's private key for ``alg``, made on first use (development only, under var/)."""
    path = demo_dir() / "keys" / f"{alg.lower()}.pem"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey = (
            ec.generate_private_key(ec.SECP384R1())
            if alg == SigningAlg.ES384
            else rsa.generate_private_key(65537, 2048)
        )
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        path.write_bytes(pem)
        path.chmod(0o600)
    return path


def seed_fhir(hospitals: list[Organisation], report: SeedReport) -> None:
    """The demo hospitals' endpoints and the first citizens' hospital-authorised connections. Idempotent."""
    for demo, organisation in zip(HOSPITALS, hospitals, strict=True):
        backend = demo.auth_mode == AuthMode.BACKEND_SERVICES
        endpoint = FhirEndpoint.objects.filter(base_url=demo.base_url).first()
        if endpoint is None:
            # Through the staff service, as an operator would: the base URL passes the outbound policy
            # because development allows the demo hospitals' origins (MAMORI_OUTBOUND_ALLOW).
            endpoint = endpoints.create_endpoint(
                actor=None,
                organisation=organisation,
                name=f"{organisation.name} FHIR",
                base_url=demo.base_url,
                auth_mode=demo.auth_mode,
                client_id=CLIENT_ID if backend else "",
                key_id=demo.signing_alg.lower() if backend else "",
                signing_alg=demo.signing_alg,
            )
            report.count("fhir endpoints")
        if backend and not endpoint.private_key_encrypted:
            # The demo's own key pair (under var/): entered once and sealed, as staff enter a hospital's key.
            pem = private_key_path(demo.signing_alg).read_text(encoding="ascii")
            endpoint = endpoints.set_endpoint_secret(actor=None, endpoint=endpoint, private_key_pem=pem)
        for person in _connected_citizens(organisation):
            _, created = Connection.objects.get_or_create(
                person=person, endpoint=endpoint, defaults={"kind": ConnectionKind.HOSPITAL_AUTHORISED}
            )
            if created:
                record_audit(
                    actor=None, person=person, action="fhir.connection.linked_by_hospital", endpoint=str(endpoint.id)
                )
                report.count("fhir connections")


def _connected_citizens(organisation: Organisation) -> list[Person]:
    emails = [f"citizen{number:02d}@{data.EMAIL_DOMAIN}" for number in range(1, CONNECTED_CITIZENS + 1)]
    return list(
        Person.objects.filter(user__email__in=emails, identifiers__system=organisation.patient_number_system).order_by(
            "user__email"
        )
    )


def _patient_number(person: Person, system: str) -> str:
    identifier = Identifier.objects.get(person=person, system=system)
    return decrypt(bytes(identifier.value_encrypted), context=identifier_context(identifier.id)).decode("utf-8")


def _patient_bundle(
    person: Person, *, system: str, number: str, slug: str, position: int, jp_core: bool
) -> dict[str, Any]:
    """One citizen's record at one hospital: a carebundle bundle under their name and patient number."""
    from carebundle import generate_bundle

    profile = CAREBUNDLE_PROFILES[position % len(CAREBUNDLE_PROFILES)]
    sex = "F" if person.sex == "female" else "M"
    generated = json.loads(
        generate_bundle(profile=profile, seed=int(number), sex=sex).model_dump_json(exclude_none=True)
    )
    prefix = f"{slug}-{number}"
    entries = []
    patient_id = f"{prefix}-patient"
    for index, entry in enumerate(generated["entry"]):
        resource = entry["resource"]
        rtype = resource["resourceType"]
        rid = patient_id if rtype == "Patient" else f"{prefix}-{index}"
        resource["id"] = rid
        if rtype == "Patient":
            resource["identifier"] = [{"system": system, "value": number}]
            resource["name"] = [{"use": "official", "family": person.family_name, "given": [person.given_name]}]
            if person.family_name_kana and person.given_name_kana:
                resource["name"].append(
                    {
                        "use": "official",
                        "family": person.family_name_kana,
                        "given": [person.given_name_kana],
                        "extension": [{"url": KANA_EXTENSION, "valueCode": "SYL"}],
                    }
                )
            resource["birthDate"] = person.birth_date.isoformat()
            resource["gender"] = person.sex
        entries.append(
            {"fullUrl": entry["fullUrl"], "resource": resource, "request": {"method": "PUT", "url": f"{rtype}/{rid}"}}
        )
    if jp_core:
        for index, path in enumerate(sorted(FIXTURES.glob("*.json"))):
            resource = _jp_core_for(json.loads(path.read_text(encoding="utf-8")), patient_id=patient_id)
            resource["id"] = f"{prefix}-jp{index}"
            url = f"{resource['resourceType']}/{resource['id']}"
            entries.append({"resource": resource, "request": {"method": "PUT", "url": url}})
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def _jp_core_for(example: dict[str, Any], *, patient_id: str) -> dict[str, Any]:
    """A JP Core example about this patient: its subject (given by insurance number) becomes a reference."""
    resource = copy.deepcopy(example)
    resource.pop("meta", None)
    for field in ("subject", "patient"):
        if field in resource:
            resource[field] = {"reference": f"Patient/{patient_id}"}
    return resource


def server_settings(demo: DemoHospital, organisation: Organisation) -> Any:
    from jwt.algorithms import ECAlgorithm, RSAAlgorithm
    from sekmet.config import ServerAuth, Settings, SimulatorSettings, SmartClient, ValidationSettings

    auth = ServerAuth(types=["none"])
    if demo.auth_mode == AuthMode.BACKEND_SERVICES:
        key = serialization.load_pem_private_key(private_key_path(demo.signing_alg).read_bytes(), password=None)
        public = key.public_key()
        if isinstance(public, ec.EllipticCurvePublicKey):
            public_jwk = ECAlgorithm.to_jwk(public)
        elif isinstance(public, rsa.RSAPublicKey):
            public_jwk = RSAAlgorithm.to_jwk(public)
        else:
            raise RuntimeError("the demo key is neither RSA nor EC")
        jwk = {**json.loads(public_jwk), "alg": demo.signing_alg, "kid": demo.signing_alg.lower()}
        auth = ServerAuth(
            types=["smart"],
            smart_clients=[SmartClient(client_id=CLIENT_ID, jwks={"keys": [jwk]}, scopes="system/*.rs")],
        )
    directory = demo_dir() / demo.slug
    directory.mkdir(parents=True, exist_ok=True)
    return Settings(
        base_url=demo.base_url,
        host="127.0.0.1",
        port=demo.port,
        data_dir=str(directory),
        db_path=str(directory / "sekmet.db"),
        facility_name=organisation.name_en or organisation.name,
        own_private_key_path=str(directory / "sekmet_own.pem"),
        server_auth=auth,
        validation=ValidationSettings(inbound="warn"),
        simulator=SimulatorSettings(enabled=False),
        log_inbound=False,
    )


def load_records(app: Any, demo: DemoHospital, organisation: Organisation) -> int:
    """Put each connected citizen's record on the hospital's server unless it is there; returns how many."""
    from sekmet.fhir.bundle import process_bundle

    system = organisation.patient_number_system or ""
    loaded = 0
    for position, person in enumerate(_connected_citizens(organisation)):
        number = _patient_number(person, system)
        found = app.state.ctx.service.search("Patient", [("identifier", f"{system}|{number}")])
        if found.body.get("total"):
            continue
        bundle = _patient_bundle(
            person, system=system, number=number, slug=demo.slug, position=position, jp_core=demo.index == 0
        )
        process_bundle(app.state.ctx.service, bundle, origin="internal")
        loaded += 1
    return loaded


def serve() -> None:
    """Run the three demo hospitals' FHIR servers until interrupted."""
    import uvicorn
    from sekmet.main import create_app

    organisations = {o.patient_number_system: o for o in Organisation.objects.filter(kind="hospital")}
    servers = []
    for demo in HOSPITALS:
        organisation = organisations.get(data.HOSPITALS[demo.index][2])
        if organisation is None:
            raise RuntimeError("run manage.py seed_demo first")
        app = create_app(server_settings(demo, organisation))
        count = load_records(app, demo, organisation)
        logger.info("demo FHIR server ready", extra={"hospital": demo.slug, "port": demo.port, "loaded": count})
        servers.append(uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=demo.port, log_level="warning")))

    async def run_all() -> None:
        await asyncio.gather(*(server.serve() for server in servers))

    asyncio.run(run_all())
