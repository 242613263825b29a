"""PAdES long-term validation of a signed PDF by pyHanko (ETSI EN 319 102-1 LTA), offline.

Usage: python pyhanko_lta.py FILE.pdf ROOTS.pem MOMENT [CRL.der ...]

MOMENT (RFC 3339) is the validation time, pinned: pyHanko does not use the real clock as
a proof of existence and fetches nothing (no OCSP, no CRL download, no certificates).
The certificates of ROOTS.pem are the only trust anchors. Prints one JSON object: the AdES indication and
sub-indication, the signature's intactness and validity, the best proven signing time, the
oldest document time-stamp, and the signature time-stamp's indication.
"""

import asyncio
import json
import sys
from datetime import datetime

from asn1crypto import crl as asn1_crl
from asn1crypto import pem, x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation.ades import ades_lta_validation
from pyhanko.sign.validation.policy_decl import (
    CertificateFetchingRule,
    LocalKnowledge,
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.ltv.types import ValidationTimingInfo
from pyhanko_certvalidator.policy_decl import (
    CertRevTrustPolicy,
    RevocationCheckingPolicy,
    RevocationCheckingRule,
)
from pyhanko_certvalidator.registry import SimpleTrustManager
from pyhanko_certvalidator.revinfo.archival import CRLContainer


def load_roots(path):
    """Every certificate of a PEM file (or the one DER certificate)."""
    with open(path, "rb") as f:
        data = f.read()
    if not pem.detect(data):
        return [x509.Certificate.load(data)]
    return [x509.Certificate.load(der) for _, _, der in pem.unarmor(data, multiple=True)]


async def main():
    pdf_path, root_path, moment = sys.argv[1:4]
    crls = []
    for path in sys.argv[4:]:
        with open(path, "rb") as f:
            crls.append(CRLContainer(asn1_crl.CertificateList.load(f.read())))
    at = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    trust = SimpleTrustManager.build(trust_roots=load_roots(root_path))
    # Revocation information is required wherever a certificate names a CRL
    # distribution point (the seal and TSA certificates do), and must come from the file.
    rev = CertRevTrustPolicy(
        RevocationCheckingPolicy(
            ee_certificate_rule=RevocationCheckingRule.CHECK_IF_DECLARED,
            intermediate_ca_cert_rule=RevocationCheckingRule.CHECK_IF_DECLARED,
        )
    )
    policy = CertValidationPolicySpec(trust_manager=trust, revinfo_policy=rev)
    offline = RevocationInfoGatheringSpec(
        online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY,
        certificate_fetching_rule=CertificateFetchingRule.NEVER_FETCH,
    )
    spec = PdfSignatureValidationSpec(
        SignatureValidationSpec(
            cert_validation_policy=policy,
            ts_cert_validation_policy=policy,
            revinfo_gathering_policy=offline,
            local_knowledge=LocalKnowledge(known_crls=crls),
        )
    )
    timing = ValidationTimingInfo(validation_time=at, best_signature_time=at, point_in_time_validation=True)
    with open(pdf_path, "rb") as f:
        reader = PdfFileReader(f)
        sigs = reader.embedded_regular_signatures
        if not sigs:
            print(json.dumps({"error": "no signature"}))
            return
        result = await ades_lta_validation(sigs[0], spec, timing_info=timing)
    status = result.api_status
    ts = result.signature_timestamp_status
    print(
        json.dumps(
            {
                "indication": result.ades_subindic.status.name,
                "subindication": result.ades_subindic.name,
                "failure": result.failure_msg,
                "intact": bool(status.intact) if status else None,
                "valid": bool(status.valid) if status else None,
                "trusted": bool(status.trusted) if status else None,
                "best_signature_time": result.best_signature_time.isoformat(),
                "oldest_evidence_record_timestamp": (
                    result.oldest_evidence_record_timestamp.isoformat()
                    if result.oldest_evidence_record_timestamp
                    else None
                ),
                "signature_timestamp": (
                    ts.ades_subindic.name if ts else None
                ),
            }
        )
    )


asyncio.run(main())
