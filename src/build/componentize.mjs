// weld's driver for componentize-js: `weld build` runs it with node for each JavaScript component.
// Arguments: COMPONENTIZE_JS_ENTRY SOURCE WIT_DIR WORLD OUT DISABLED_FEATURES(comma-separated)
import { writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';

const [entry, sourcePath, witPath, worldName, out, disabled] = process.argv.slice(-6);
try {
  const { componentize } = await import(pathToFileURL(entry).href);
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
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(1);
}
