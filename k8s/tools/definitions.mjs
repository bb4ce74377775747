// The RabbitMQ definitions (management API / definitions.import format) that a
// rendered overlay puts into its broker, so a real broker can load exactly them:
//   dev:        the ConfigMap rabbitmq-definitions (10-topology.json) and the
//               Secret edgefaas-rabbitmq-users (20-users.json) that
//               k8s/tools/make-secrets.sh prints;
//   production: the Messaging Topology Operator CRs (Exchange, Queue, Binding,
//               Policy, User, Permission), users' credentials from the Secrets
//               make-secrets.sh prints (importCredentialsSecret).
// brokerDefinitions(objs, secrets) -> { topology, users } (two definitions
// documents: the topology first, then users + permissions), plus
// credentials: Map(user -> password) for the users the overlay declares.
const find = (objs, kind, name) => objs.find((o) => o.kind === kind && o.metadata.name === name);

// secrets: the parsed Secret documents of make-secrets.sh (stringData).
export function brokerDefinitions(objs, secrets) {
  const secret = (name) => {
    const s = secrets.find((x) => x.metadata.name === name) ?? find(objs, 'Secret', name);
    if (!s) throw new Error(`Secret ${name} is neither made by make-secrets.sh nor in the overlay`);
    return s.stringData ?? Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
  };
  const credentials = new Map();
  for (const s of secrets) if (s.stringData?.username && s.stringData?.password) credentials.set(s.stringData.username, s.stringData.password);

  const defs = find(objs, 'ConfigMap', 'rabbitmq-definitions');
  if (defs) {
    const topology = JSON.parse(defs.data['10-topology.json']);
    const users = JSON.parse(secret('edgefaas-rabbitmq-users')['20-users.json']);
    return { source: 'dev definitions', topology, users, credentials };
  }

  const cr = (kind) => objs.filter((o) => o.apiVersion === 'rabbitmq.com/v1beta1' && o.kind === kind);
  if (!cr('Queue').length) throw new Error('no broker topology in the overlay (ConfigMap rabbitmq-definitions or rabbitmq.com CRs)');
  const topology = {
    vhosts: [...new Set([...cr('Exchange'), ...cr('Queue'), ...cr('Binding'), ...cr('Policy')].map((o) => o.spec.vhost ?? '/'))].map((name) => ({ name })),
    exchanges: cr('Exchange').map(({ spec: e }) => ({
      name: e.name, vhost: e.vhost ?? '/', type: e.type ?? 'direct', durable: e.durable ?? true,
      auto_delete: e.autoDelete ?? false, internal: false, arguments: e.arguments ?? {},
    })),
    queues: cr('Queue').map(({ spec: q }) => ({
      name: q.name, vhost: q.vhost ?? '/', durable: q.durable ?? false, auto_delete: q.autoDelete ?? false,
      arguments: { ...(q.arguments ?? {}), ...(q.type && q.type !== 'classic' ? { 'x-queue-type': q.type } : {}) },
    })),
    bindings: cr('Binding').map(({ spec: b }) => ({
      source: b.source, vhost: b.vhost ?? '/', destination: b.destination,
      destination_type: b.destinationType ?? 'queue', routing_key: b.routingKey ?? '', arguments: b.arguments ?? {},
    })),
    policies: cr('Policy').map(({ spec: p }) => ({
      vhost: p.vhost ?? '/', name: p.name, pattern: p.pattern, 'apply-to': p.applyTo ?? 'all',
      priority: p.priority ?? 0, definition: p.definition,
    })),
  };
  // The Topology Operator names a user after the Secret's username key.
  const userName = new Map();
  const users = { users: [], permissions: [] };
  for (const u of cr('User')) {
    const s = secret(u.spec.importCredentialsSecret.name);
    userName.set(u.metadata.name, s.username);
    credentials.set(s.username, s.password);
    users.users.push({ name: s.username, password: s.password, tags: u.spec.tags ?? [] });
  }
  for (const p of cr('Permission')) {
    const name = p.spec.user ?? userName.get(p.spec.userReference?.name);
    if (!name) throw new Error(`Permission/${p.metadata.name}: userReference ${p.spec.userReference?.name} is no User of the overlay`);
    users.permissions.push({ user: name, vhost: p.spec.vhost, configure: p.spec.permissions.configure ?? '', write: p.spec.permissions.write ?? '', read: p.spec.permissions.read ?? '' });
  }
  return { source: 'topology CRs', topology, users, credentials };
}
