// Checks a GitHub Actions workflow with GitHub's own parser (@actions/workflow-parser, which
// install.sh --dev installs): node workflow.mjs PARSER_INDEX_JS WORKFLOW.yml. Prints
// {"errors": [...], "jobs": [...], "events": [...]} as JSON.
import { register } from "node:module";
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

// The parser imports its JSON schema without an import attribute, which Node's ESM loader
// refuses; this load hook adds the attribute.
register(
  "data:text/javascript," +
    encodeURIComponent(`export async function load(url, context, next) {
      if (url.endsWith(".json")) return next(url, { ...context, importAttributes: { type: "json" } });
      return next(url, context);
    }`),
);

const [parserPath, workflowPath] = process.argv.slice(2);
const { parseWorkflow, convertWorkflowTemplate, NoOperationTraceWriter } = await import(
  pathToFileURL(parserPath).href
);
const content = readFileSync(workflowPath, "utf8");
const result = parseWorkflow({ name: workflowPath, content }, new NoOperationTraceWriter());
const errors = result.context.errors.getErrors().map((e) => e.message);
let jobs = [];
let events = [];
if (result.value) {
  const template = await convertWorkflowTemplate(result.context, result.value);
  for (const e of template.errors ?? []) errors.push(e.Message ?? e.message ?? String(e));
  jobs = (template.jobs ?? []).map((j) => j.id?.value ?? String(j.id));
  events = Object.keys(template.events ?? {});
}
console.log(JSON.stringify({ errors: [...new Set(errors)], jobs, events }));
