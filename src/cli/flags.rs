//! Flag groups that several commands share: what a guest is granted, how to reach a registry,
//! whether to check sources. Each command flattens the ones it takes; none reaches into another
//! command's file for them.

use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::Context;
use weld::error::{Error, Result};
use weld::oci::Transport;
use weld::project::HttpOrigin;
use weld::run::grants::{DirSpec, EnvName, EnvVar, NetAddr, Overrides};

/// `--no-source-check`, for the commands that build or check.
#[derive(Debug, Args)]
pub struct SourceCheck {
    /// Build and check Python and JavaScript components without checking their source against
    /// their world (like `source-check = false` on each)
    #[arg(long)]
    pub no_source_check: bool,
}

/// The grant flags `weld run` and `weld serve` share.
#[derive(Debug, Args)]
pub struct GrantFlags {
    /// Grant a host directory, read-write: HOST[::GUEST]
    #[arg(long, value_name = "HOST[::GUEST]")]
    dir: Vec<DirSpec>,

    /// Grant a host directory, read-only: HOST[::GUEST]
    #[arg(long, value_name = "HOST[::GUEST]")]
    dir_ro: Vec<DirSpec>,

    /// Set an environment variable for the guest: KEY=VALUE
    #[arg(long, value_name = "KEY=VALUE")]
    env: Vec<EnvVar>,

    /// Pass a host environment variable through by name
    #[arg(long, value_name = "KEY")]
    env_inherit: Vec<EnvName>,

    /// Allow sockets to this address: HOST:PORT
    #[arg(long, value_name = "HOST:PORT")]
    allow_net: Vec<NetAddr>,

    /// Allow outgoing HTTP requests (wasi:http) to this origin: https://HOST[:PORT]
    #[arg(long, value_name = "ORIGIN")]
    allow_http: Vec<HttpOrigin>,
}

impl GrantFlags {
    /// These grants, with the limits and arguments given beside them.
    pub fn overrides(
        self,
        timeout: Option<Duration>,
        max_memory: Option<u64>,
        args: Option<Vec<String>>,
    ) -> Overrides {
        Overrides {
            dirs: self.dir,
            dirs_ro: self.dir_ro,
            env: self.env,
            env_inherit: self.env_inherit,
            allow_net: self.allow_net,
            allow_http: self.allow_http,
            timeout,
            max_memory,
            args,
        }
    }
}

/// How to reach and log in to a registry (push and pull).
#[derive(Debug, Args)]
pub struct RegistryFlags {
    /// Speak plain HTTP to this registry (HOST:PORT); repeatable. Loopback ones are, unless
    /// --ca-file is given.
    #[arg(long, value_name = "HOST:PORT")]
    insecure: Vec<String>,

    /// Trust the certificate authorities in this PEM file too (a registry with a private CA);
    /// repeatable. A loopback registry then speaks TLS.
    #[arg(long, value_name = "CA.pem")]
    ca_file: Vec<PathBuf>,

    /// Log in as USER (the password is read from stdin, see --password-stdin)
    #[arg(long, value_name = "USER", requires = "password_stdin")]
    username: Option<String>,

    /// Read the password (or token) for --username from stdin
    #[arg(long, requires = "username")]
    password_stdin: bool,
}

impl RegistryFlags {
    pub fn transport(&self, cx: &Context) -> Result<Transport> {
        let credentials = match &self.username {
            Some(user) => {
                let mut password = String::new();
                std::io::stdin()
                    .read_to_string(&mut password)
                    .map_err(|e| Error::Usage {
                        message: format!("cannot read the password from stdin: {e}"),
                    })?;
                let password = password.trim_end_matches(['\r', '\n']).to_string();
                if password.is_empty() {
                    return Err(Error::Usage {
                        message: "--password-stdin read an empty password".into(),
                    });
                }
                Some((user.clone(), password))
            }
            None => None,
        };
        Ok(Transport {
            insecure: self.insecure.clone(),
            ca_files: self.ca_file.iter().map(|f| cx.cwd.join(f)).collect(),
            credentials,
            ..Transport::default()
        })
    }
}
