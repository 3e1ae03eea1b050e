//! Functions (Invoke): typed arguments in, typed results out, like resources.
//!
//! - [`versions`]: `getVersions` and `getVersion`.
//! - [`client_config`] serves `getClientConfig`.

pub mod client_config;
pub mod versions;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value as Json};

use crate::resource::{Env, Failure, ResourceError};
use crate::schema::ObjectType;

/// A typed function.
#[tonic::async_trait]
pub trait Function: Send + Sync + 'static {
    type Args: DeserializeOwned + Send;
    type Result: Serialize + Send;

    /// Validates the arguments; failures name the argument.
    fn check(&self, args: &Self::Args) -> Vec<Failure>;

    async fn invoke(&self, env: &Env, args: Self::Args) -> Result<Self::Result, ResourceError>;
}

/// What an invoke answers: a result, or per-argument failures.
pub enum Invoked {
    Result(Map<String, Json>),
    Failures(Vec<Failure>),
}

/// The object-safe face of a function, in terms of JSON maps.
#[tonic::async_trait]
pub trait DynFunction: Send + Sync {
    async fn invoke(&self, env: &Env, args: &Map<String, Json>) -> Result<Invoked, ResourceError>;
}

/// Binds a typed function to its schema inputs.
pub struct FunctionAdapter<F: Function> {
    pub function: F,
    pub schema: &'static ObjectType,
}

#[tonic::async_trait]
impl<F: Function> DynFunction for FunctionAdapter<F> {
    async fn invoke(&self, env: &Env, args: &Map<String, Json>) -> Result<Invoked, ResourceError> {
        let mut failures = self.schema.check_types(args);
        failures.extend(self.schema.missing_required(args, |_| false));
        if !failures.is_empty() {
            return Ok(Invoked::Failures(failures));
        }
        let typed: F::Args = serde_json::from_value(Json::Object(args.clone()))
            .map_err(|e| ResourceError::Bug(format!("decoding the arguments: {e}")))?;
        let failures = self.function.check(&typed);
        if !failures.is_empty() {
            return Ok(Invoked::Failures(failures));
        }
        let result = self.function.invoke(env, typed).await?;
        match serde_json::to_value(result) {
            Ok(Json::Object(m)) => Ok(Invoked::Result(m)),
            Ok(_) | Err(_) => Err(ResourceError::Bug(
                "a function result did not encode as an object".into(),
            )),
        }
    }
}
