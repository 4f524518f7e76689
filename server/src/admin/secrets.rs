//! `gatehouse secret-key …` and `gatehouse signing-key …`: the server key that seals stored
//! secrets, and the signing keys published at `/.well-known/jwks.json`.

use clap::Subcommand;
use gatehouse_core::{
    Db,
    clock::{MINUTE, now_ms},
    secrets::{self, KeySource},
    signing::Signer,
};

use super::explain;

#[derive(Debug, Subcommand)]
pub enum SecretKeyCommand {
    /// Print a new random server key (for GATEHOUSE_SECRET_KEY), alone on the last line.
    Generate,
    /// Show which server key is configured (its id, never the key).
    Show,
    /// Seal every stored secret again under the current key, after a rotation; afterwards the
    /// previous keys (GATEHOUSE_SECRET_KEY_PREVIOUS, or the key file's later lines) can go.
    Reseal,
}

#[derive(Debug, Subcommand)]
pub enum SigningKeyCommand {
    /// List the published signing keys and when each signs from.
    List,
    /// Publish a new signing key. It signs after --in-minutes (default 60, so verifiers that cache
    /// the key set see it first); the old ones stay published two more days.
    Rotate {
        /// Minutes before the new key starts signing.
        #[arg(long, default_value_t = 60)]
        in_minutes: i64,
        /// After a compromise: the new key signs at once and the old ones are withdrawn, so what
        /// they signed stops verifying.
        #[arg(long)]
        withdraw_old: bool,
    },
}

pub async fn secret_key(db: Option<&Db>, source: &KeySource, command: SecretKeyCommand) -> anyhow::Result<()> {
    match command {
        SecretKeyCommand::Generate => {
            eprintln!("a new server key; set it as GATEHOUSE_SECRET_KEY (and keep a copy somewhere safe):");
            println!("{}", secrets::generate_key_text().as_str());
            Ok(())
        }
        SecretKeyCommand::Show => {
            let (keys, from) = source.load().map_err(explain)?;
            println!("server key {} (from {from})", keys.key_id());
            Ok(())
        }
        SecretKeyCommand::Reseal => {
            let db = db.ok_or_else(|| anyhow::anyhow!("reseal needs the database"))?;
            let (keys, _) = source.load().map_err(explain)?;
            let count = secrets::reseal(db, &keys).await.map_err(explain)?;
            println!("sealed {count} stored secret(s) again under server key {}", keys.key_id());
            Ok(())
        }
    }
}

pub async fn signing_key(db: &Db, source: &KeySource, command: SigningKeyCommand) -> anyhow::Result<()> {
    let (keys, _) = source.load().map_err(explain)?;
    let signer = Signer::new(db.clone(), keys);
    match command {
        SigningKeyCommand::List => {
            let now = now_ms();
            println!("{:<18} SIGNS", "KID");
            for (kid, signs_from) in signer.published_keys().await.map_err(explain)? {
                let when = if signs_from <= now {
                    "now (or until replaced)".to_owned()
                } else {
                    format!("in {} minutes", (signs_from - now + MINUTE - 1) / MINUTE)
                };
                println!("{kid:<18} {when}");
            }
            Ok(())
        }
        SigningKeyCommand::Rotate { in_minutes, withdraw_old } => {
            if !(0..=7 * 24 * 60).contains(&in_minutes) {
                anyhow::bail!("--in-minutes must be between 0 and 10080");
            }
            let kid = signer.rotate_now(in_minutes * MINUTE, withdraw_old).await.map_err(explain)?;
            if withdraw_old {
                println!("signing key {kid} signs now; the previous keys are withdrawn");
            } else {
                println!("signing key {kid} is published and signs in {in_minutes} minutes");
            }
            Ok(())
        }
    }
}
