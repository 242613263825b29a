//! Departments and their seals: registering a department, creating a seal (key,
//! certificate from the root of its algorithm, record), its chain and image, revoking it,
//! and the signing material issuing uses.

use std::sync::{Arc, OnceLock};

use time::{Duration, OffsetDateTime};

use crate::codes::{AreaCode, Uscc};
use crate::pki::{self, Algorithm, PrivateKey, RevocationReason};
use crate::seal::{self, SealDrawing};
use crate::signing::SealSigner;
use crate::store::{CrlRecord, Department, SealRecord, SealStatus};

use super::super::checks::{checked_name, checked_type_codes};
use super::super::error::PlatformError;
use super::super::lookup;
use super::{BACKDATE, MAX_DEPARTMENT_NAME, Pki, SealContext};

impl Pki {
    /// Registers a department after checking its code (with check character), name and
    /// area code.
    pub async fn add_department(
        &self,
        code: &str,
        name: &str,
        area: &str,
        type_codes: &[String],
        now: OffsetDateTime,
    ) -> Result<Department, PlatformError> {
        let code = Uscc::parse(code.trim()).map_err(|e| PlatformError::invalid("code", e))?;
        let name = checked_name("name", name, MAX_DEPARTMENT_NAME)?;
        let area = AreaCode::parse(area.trim()).map_err(|e| PlatformError::invalid("area", e))?;
        // The name goes on the department's seals: it must be drawable.
        seal::draw(name, "")?;
        let type_codes = checked_type_codes(&self.catalogue, type_codes)?;
        let department = Department { code, name: name.to_owned(), area, type_codes, created_at: now };
        self.store.insert_department(&department).await?;
        self.trust.invalidate();
        Ok(department)
    }

    /// All departments.
    pub async fn departments(&self) -> Result<Vec<Department>, PlatformError> {
        Ok(self.store.departments().await?)
    }

    /// Creates a seal for a department: a new key, a certificate from the root of the
    /// same algorithm, and the record; an SM2 seal also its GB/T 38540 `SES_Seal`, signed
    /// by the seal maker ([`Pki::ses_seal`]). The name must be drawable (see [`seal::draw`]).
    pub async fn create_seal(
        &self,
        department: &str,
        name: &str,
        algorithm: Algorithm,
        now: OffsetDateTime,
    ) -> Result<SealRecord, PlatformError> {
        let department = lookup::department(self.store.as_ref(), department).await?;
        let name = checked_name("name", name, seal::MAX_SEAL_NAME_CHARS)?;
        seal::draw(&department.name, name)?;
        let root = lookup::root(self.store.as_ref(), algorithm).await?;
        let root_key = self.keys.read(&root.key_name)?;
        let number = self.store.next_counter(&format!("seal:{}", department.area)).await?;
        let id = format!("{}{number:08}", department.area);
        let key_name = format!("seal-{id}");
        let key = PrivateKey::generate(algorithm, &self.rng)?;
        self.keys.write_new(&key_name, &key)?;
        let result = async {
            let serial = pki::random_serial(&self.rng)?;
            let subject = pki::SealSubject {
                seal_id: &id,
                seal_name: name,
                department_name: &department.name,
                department_code: department.code.as_str(),
            };
            let root_info = pki::cert_info(&root.cert_der)?;
            let not_after =
                (now + Duration::days(i64::from(self.config.seal_cert_days))).min(root_info.not_after);
            let cert_der = pki::issue_seal_cert(
                &subject,
                &key.public_key_spki_der(),
                &root.cert_der,
                &root_key,
                &self.config.crl_url(algorithm.as_str()),
                now - BACKDATE,
                not_after,
                serial,
            )?;
            let seal = SealRecord {
                id: id.clone(),
                department_code: department.code.clone(),
                name: name.to_owned(),
                algorithm,
                cert_der,
                serial_hex: hex::encode(serial),
                key_name: key_name.clone(),
                status: SealStatus::Active,
                created_at: now,
                revocation: None,
            };
            // An SM2 seal gets its GB/T 38540 electronic seal now (made before the record,
            // so a failure leaves no seal behind).
            let ses_seal = match algorithm {
                Algorithm::Sm2 => Some(self.make_ses_seal(&seal, &department, now).await?),
                _ => None,
            };
            self.store.insert_seal(&seal).await?;
            if let Some(der) = ses_seal
                && let Err(e) = self.store.keep_ses_seal(&seal.id, &der).await
            {
                // Not fatal: `Pki::ses_seal` makes it again on first need.
                tracing::warn!(seal = %seal.id, error = %e, "the electronic seal (SES_Seal) was not stored");
            }
            self.trust.invalidate();
            Ok::<_, PlatformError>(seal)
        }
        .await;
        if result.is_err() {
            self.keys.discard(&key_name);
        }
        result
    }

    /// One seal.
    pub async fn seal(&self, id: &str) -> Result<SealRecord, PlatformError> {
        lookup::seal(self.store.as_ref(), id).await
    }

    /// All seals, or one department's.
    pub async fn seals(&self, department: Option<&str>) -> Result<Vec<SealRecord>, PlatformError> {
        match department {
            Some(code) => {
                let department = lookup::department(self.store.as_ref(), code).await?;
                Ok(self.store.seals(Some(&department.code)).await?)
            }
            None => Ok(self.store.seals(None).await?),
        }
    }

    /// The seal certificate and its root, PEM, leaf first.
    pub async fn seal_chain_pem(&self, id: &str) -> Result<String, PlatformError> {
        let seal = self.seal(id).await?;
        let root = lookup::root(self.store.as_ref(), seal.algorithm).await?;
        Ok(pki::pem_encode("CERTIFICATE", &seal.cert_der) + &pki::pem_encode("CERTIFICATE", &root.cert_der))
    }

    /// The seal's image, drawn from its department's name and its own.
    pub async fn seal_drawing(&self, id: &str) -> Result<SealDrawing, PlatformError> {
        let seal = self.seal(id).await?;
        let department = lookup::department(self.store.as_ref(), seal.department_code.as_str()).await?;
        Ok(seal::draw(&department.name, &seal.name)?)
    }

    /// Revokes a seal: marks it and publishes a freshly signed CRL of its root listing
    /// it, atomically.
    pub async fn revoke_seal(
        &self,
        id: &str,
        reason: RevocationReason,
        now: OffsetDateTime,
    ) -> Result<(SealRecord, CrlRecord), PlatformError> {
        let seal = self.seal(id).await?;
        if seal.status == SealStatus::Revoked {
            return Err(PlatformError::Conflict(format!("seal {} is revoked already", seal.id)));
        }
        let crl = self.publish_revocation(&seal, reason, now).await?;
        if let Ok(mut cache) = self.seal_contexts.lock() {
            cache.remove(&seal.id);
        }
        self.trust.invalidate();
        // Licences signed from now on carry a CRL that lists the seal.
        let mut dss = self.dss_crls.lock().await;
        if dss.get(&seal.algorithm).is_none_or(|c| c.number < crl.number) {
            dss.insert(seal.algorithm, crl.clone());
        }
        drop(dss);
        Ok((self.seal(&seal.id).await?, crl))
    }

    /// The signing material of a seal, read once.
    pub(in crate::platform) async fn seal_context(
        &self,
        seal_id: &str,
    ) -> Result<Arc<SealContext>, PlatformError> {
        if let Some(ctx) = self.seal_contexts.lock().ok().and_then(|c| c.get(seal_id).cloned()) {
            return Ok(ctx);
        }
        let seal = self.seal(seal_id).await?;
        let root = lookup::root(self.store.as_ref(), seal.algorithm).await?;
        let key = self.keys.read(&seal.key_name)?;
        let signer = SealSigner::from_pkcs8_der(key.pkcs8_der())
            .map_err(|error| PlatformError::Signing { key: format!("seal {seal_id}"), error })?;
        let department = lookup::department(self.store.as_ref(), seal.department_code.as_str()).await?;
        let drawing = seal::draw(&department.name, &seal.name)?;
        let kid = crate::token::kid_of(&seal.cert_der);
        let ctx = Arc::new(SealContext {
            seal_id: seal.id.clone(),
            signer,
            chain: vec![seal.cert_der, root.cert_der],
            kid,
            drawing,
            appearance: OnceLock::new(),
            department,
        });
        if let Ok(mut cache) = self.seal_contexts.lock() {
            cache.insert(seal_id.to_owned(), ctx.clone());
        }
        Ok(ctx)
    }
}
