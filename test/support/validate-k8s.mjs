// Validates Kubernetes objects against their OpenAPI schemas with kubernetes-models (and
// @kubernetes-models/prometheus-operator for its CRDs). Run as a child process: both packages are
// ESM-only, which jest's CommonJS runtime cannot import. Reads a JSON array of objects on stdin,
// prints a JSON array of { kind, name, error } (error null when valid).
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const objects = JSON.parse(Buffer.concat(chunks).toString('utf8'));

function modulePath(apiVersion, kind) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  if (group === 'monitoring.coreos.com')
    return `@kubernetes-models/prometheus-operator/${group}/${version}/${kind}`;
  return `kubernetes-models/${group ? `${group}/` : ''}${version}/${kind}`;
}

const results = [];
for (const object of objects) {
  const name = `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
  let error = null;
  try {
    const models = await import(modulePath(object.apiVersion, object.kind));
    const Model = models[object.kind];
    if (!Model) throw new Error(`no model for ${object.apiVersion} ${object.kind}`);
    new Model(object).validate();
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  }
  results.push({ kind: object.kind, name, error });
}
process.stdout.write(JSON.stringify(results));
