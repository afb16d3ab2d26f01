//! The JSON Schema an editor checks a base, or a spec that extends one, against: the spec's
//! schema with nothing required (a layer may leave anything to another), the blueprint keys
//! (`extends`, `environments`, `$lock`) at the top, and `$remove` allowed in every mapping.
//! It is derived from the spec's schema, so the two cannot drift; `schemas/amlgen.base.schema.json`
//! is this derivation written out, and a test keeps it so.

use serde_json::{Value, json};

use super::merge::REMOVE;
use super::{ENVIRONMENTS, EXTENDS, LOCK};

/// The schema of a layer, derived from the spec's `full` schema.
pub(crate) fn layer_schema(full: &Value) -> Value {
    let mut schema = full.clone();
    loosen(&mut schema);
    schema["title"] = json!("amlgen base or extending spec, version 1");
    schema["description"] = json!(
        "A layer of a blueprint: a base (*.base.yaml), or a spec that extends one. Nothing is required here; amlgen checks the merged spec against amlgen.schema.json."
    );
    let properties = &mut schema["properties"];
    properties[EXTENDS] = json!({
        "type": "string",
        "description": "The base this file extends, relative to it (`../standard.base.yaml`).",
        "minLength": 1,
        "maxLength": 1024
    });
    properties[ENVIRONMENTS] = json!({
        "type": "object",
        "description": "Overlays, one per environment: each renders to OUT/<name>-<environment>/.",
        "propertyNames": {"pattern": "^[a-z][a-z0-9-]{0,15}$"},
        "additionalProperties": {"$ref": "#"}
    });
    properties[LOCK] = json!({
        "type": "array",
        "description": "Keys descendants may not change, as dotted paths (`network.outbound`).",
        "items": {"type": "string", "pattern": "^[a-z_]+(\\.[a-z_]+)*$"},
        "uniqueItems": true
    });
    schema
}

/// Drops `required` everywhere and lets every closed mapping hold `$remove`.
fn loosen(node: &mut Value) {
    match node {
        Value::Object(map) => {
            map.remove("required");
            if map.get("additionalProperties") == Some(&Value::Bool(false)) {
                map.insert(
                    "patternProperties".into(),
                    json!({ format!("^\\{REMOVE}$"): {"description": "Removes inherited keys or, in a list entry, the inherited entry of that name."} }),
                );
            }
            map.values_mut().for_each(loosen);
        }
        Value::Array(items) => items.iter_mut().for_each(loosen),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_written_layer_schema_is_the_derivation_of_the_spec_schema() {
        let full: Value = serde_json::from_str(crate::schema::SCHEMA).unwrap();
        let derived = serde_json::to_string_pretty(&layer_schema(&full)).unwrap() + "\n";
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/schemas/amlgen.base.schema.json"
        );
        let written = std::fs::read_to_string(path).unwrap_or_default();
        if std::env::var_os("AMLGEN_BLESS").is_some() {
            std::fs::write(path, &derived).unwrap();
            return;
        }
        assert!(
            written == derived,
            "schemas/amlgen.base.schema.json is stale: run `AMLGEN_BLESS=1 cargo test layer_schema`"
        );
    }

    #[test]
    fn a_layer_may_leave_out_anything_and_remove_inherited_keys() {
        let full: Value = serde_json::from_str(crate::schema::SCHEMA).unwrap();
        let schema = layer_schema(&full);
        let validator = jsonschema::validator_for(&schema).unwrap();
        let layer = json!({
            "extends": "../standard.base.yaml",
            "$lock": ["network.outbound"],
            "network": {"$remove": ["nat"], "outbound": "locked"},
            "environments": {"dev": {"tags": {"environment": "dev"}}}
        });
        let errors: Vec<String> = validator
            .iter_errors(&layer)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
        assert!(!validator.is_valid(&json!({"network": {"outbond": "locked"}})));
    }
}
