// weld's driver for componentize-js: `weld build` runs it with node for each JavaScript component.
// Arguments: COMPONENTIZE_JS_ENTRY SOURCE WIT_DIR WORLD OUT DISABLED_FEATURES(comma-separated)
import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const [entry, sourcePath, witPath, worldName, out, disabled] = process.argv.slice(-6);
let componentize;
try {
  ({ componentize } = await import(pathToFileURL(entry).href));
} catch (e) {
  // Exit 3: the toolchain is broken, not the user's code.
  console.error(`cannot load componentize-js from ${entry}: ${e && e.message ? e.message : e}`);
  process.exit(3);
}
try {
  const { component } = await componentize({
    sourcePath,
    witPath,
    worldName,
    disableFeatures: disabled ? disabled.split(',') : [],
    // Wizer runs with a cleared environment otherwise, and then caches nothing.
    env: true,
  });
  await writeFile(out, component);
} catch (e) {
  const message = e && e.message ? e.message : String(e);
  // componentize-js counts syntax errors but does not show them: parse again with the parser it
  // uses (oxc) to print each with its line, column and a code frame.
  if (/failed to parse JS source/.test(message)) {
    try {
      const oxc = createRequire(entry)('oxc-parser');
      const parsed = await oxc.parseAsync(sourcePath, await readFile(sourcePath, 'utf8'));
      for (const error of parsed.errors) {
        console.error(error.codeframe ? error.codeframe.replace(/^\n/, '') : error.message);
      }
    } catch {
      console.error(message);
    }
  } else {
    console.error(message);
  }
  process.exit(1);
}
