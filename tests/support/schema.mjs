// Validates a JSON document against a JSON Schema with Ajv (which install.sh --dev installs):
// node schema.mjs AJV_DIR SCHEMA.json DOCUMENT.json. Prints the errors as a JSON array of
// "PATH: MESSAGE" strings (empty when the document is valid).
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const [ajvDir, schemaPath, documentPath] = process.argv.slice(2);
const require = createRequire(join(ajvDir, "package.json"));
const Ajv = require("ajv").default;
// Kubernetes' schemas carry their own keywords (x-kubernetes-*) and formats (int-or-string),
// which are annotations here, as they are to kubectl's structural check.
const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
const validate = ajv.compile(JSON.parse(readFileSync(schemaPath, "utf8")));
validate(JSON.parse(readFileSync(documentPath, "utf8")));
const errors = (validate.errors ?? []).map((e) => `${e.instancePath || "/"}: ${e.message}`);
process.stdout.write(JSON.stringify(errors));
