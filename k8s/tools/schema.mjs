// Schema validation of rendered manifests, offline:
//  1. types and required fields: kubernetes-models (Kubernetes API) and
//     @kubernetes-models/keda (KEDA CRDs) validators;
//  2. unknown fields, which those validators let through: every object is walked
//     against the known properties of its type - Kubernetes types from the
//     OpenAPI-generated attribute maps of @kubernetes/client-node, CRDs from the
//     field trees below (written from the CRDs' OpenAPI schemas);
//  3. RabbitMQ operator CRs (no npm models exist): types and required fields
//     from the same field trees.
// Returns a list of "<kind>/<name>: <path>: <problem>" strings; empty = valid.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const k8s = require('@kubernetes/client-node');

// ---- field trees -----------------------------------------------------------
// node := 'string' | 'integer' | 'boolean' | 'any' | 'intOrString'
//       | { enum: [...] } | { k8s: 'V1Type' } | { listOf: node } | { mapOf: node }
//       | { fields: { name: node }, required: [names] }
const S = 'string', I = 'integer', B = 'boolean';
const obj = (fields, required = []) => ({ fields, required });
const list = (n) => ({ listOf: n });
const map = (n) => ({ mapOf: n });
const kref = (t) => ({ k8s: t });

const trigger = (metadataNode) => obj({
  type: S, name: S, metadata: metadataNode, useCachedMetrics: B,
  metricType: { enum: ['AverageValue', 'Value', 'Utilization'] },
  authenticationRef: obj({ name: S, kind: { enum: ['TriggerAuthentication', 'ClusterTriggerAuthentication'] } }, ['name']),
}, ['type', 'metadata']);

const hpaConfig = obj({ name: S, behavior: kref('V2HorizontalPodAutoscalerBehavior') });

// KEDA 2.x current (keda.sh_scaledobjects.yaml / scaledjobs / triggerauthentications)
const KEDA_CURRENT = {
  ScaledObject: obj({
    scaleTargetRef: obj({ apiVersion: S, kind: S, name: S, envSourceContainerName: S }, ['name']),
    pollingInterval: I, cooldownPeriod: I, initialCooldownPeriod: I, idleReplicaCount: I,
    minReplicaCount: I, maxReplicaCount: I,
    fallback: obj({ failureThreshold: I, replicas: I, behavior: S }, ['failureThreshold', 'replicas']),
    advanced: obj({
      restoreToOriginalReplicaCount: B, horizontalPodAutoscalerConfig: hpaConfig,
      scalingModifiers: obj({ formula: S, target: S, activationTarget: S, metricType: S }),
    }),
    triggers: list(trigger(map(S))),
  }, ['scaleTargetRef', 'triggers']),
  ScaledJob: obj({
    jobTargetRef: kref('V1JobSpec'),
    pollingInterval: I, successfulJobsHistoryLimit: I, failedJobsHistoryLimit: I,
    envSourceContainerName: S, minReplicaCount: I, maxReplicaCount: I, rolloutStrategy: S,
    rollout: obj({ strategy: S, propagationPolicy: S }),
    scalingStrategy: obj({
      strategy: { enum: ['default', 'custom', 'accurate', 'eager'] }, customScalingQueueLengthDeduction: I,
      customScalingRunningJobPercentage: S, pendingPodConditions: list(S), multipleScalersCalculation: S,
    }),
    triggers: list(trigger(map(S))),
  }, ['jobTargetRef', 'triggers']),
  TriggerAuthentication: obj({
    podIdentity: 'any',
    secretTargetRef: list(obj({ parameter: S, name: S, key: S }, ['parameter', 'name', 'key'])),
    env: list(obj({ parameter: S, name: S, containerName: S }, ['parameter', 'name'])),
    hashiCorpVault: 'any', azureKeyVault: 'any', gcpSecretManager: 'any', awsSecretManager: 'any',
    configMapTargetRef: list(obj({ parameter: S, name: S, key: S }, ['parameter', 'name', 'key'])),
    boundServiceAccountToken: 'any',
  }),
};

// KEDA 2.3 (tag v2.3.0 CRDs and docs/2.3): no idleReplicaCount/fallback (2.4),
// no initialCooldownPeriod, no scalingModifiers, no metricType/useCachedMetrics.
const trigger23 = obj({
  type: S, name: S, metadata: map(S),
  authenticationRef: obj({ name: S, kind: { enum: ['TriggerAuthentication', 'ClusterTriggerAuthentication'] } }, ['name']),
}, ['type', 'metadata']);
const KEDA_23 = {
  ScaledObject: obj({
    scaleTargetRef: obj({ apiVersion: S, kind: S, name: S, envSourceContainerName: S }, ['name']),
    pollingInterval: I, cooldownPeriod: I, minReplicaCount: I, maxReplicaCount: I,
    advanced: obj({ restoreToOriginalReplicaCount: B, horizontalPodAutoscalerConfig: obj({ behavior: kref('V2HorizontalPodAutoscalerBehavior') }) }),
    triggers: list(trigger23),
  }, ['scaleTargetRef', 'triggers']),
  ScaledJob: obj({
    jobTargetRef: kref('V1JobSpec'), pollingInterval: I, successfulJobsHistoryLimit: I,
    failedJobsHistoryLimit: I, envSourceContainerName: S, maxReplicaCount: I,
    scalingStrategy: obj({ strategy: { enum: ['default', 'custom', 'accurate'] }, customScalingQueueLengthDeduction: I, customScalingRunningJobPercentage: S }),
    triggers: list(trigger23),
  }, ['jobTargetRef', 'triggers']),
  TriggerAuthentication: obj({
    podIdentity: 'any',
    secretTargetRef: list(obj({ parameter: S, name: S, key: S }, ['parameter', 'name', 'key'])),
    env: list(obj({ parameter: S, name: S, containerName: S }, ['parameter', 'name'])),
    hashiCorpVault: 'any',
  }),
};

// rabbitmq trigger metadata keys (keda pkg/scalers/rabbitmq_scaler.go).
export const RABBITMQ_METADATA = {
  current: new Set(['host', 'hostFromEnv', 'protocol', 'mode', 'value', 'activationValue', 'queueName',
    'vhostName', 'useRegex', 'excludeUnacknowledged', 'pageSize', 'operation', 'timeout', 'unsafeSsl',
    'usernameFromEnv', 'passwordFromEnv', 'queueLength', 'deliveryLimit']),
  '2.3': new Set(['host', 'hostFromEnv', 'protocol', 'mode', 'value', 'queueName', 'vhostName', 'queueLength']),
};
export const RABBITMQ_AUTH_PARAMS = {
  current: new Set(['host', 'username', 'password', 'vhostName', 'tls', 'ca', 'cert', 'key', 'keyPassword', 'unsafeSsl', 'workloadIdentityResource']),
  '2.3': new Set(['host']),
};

const clusterRef = obj({ name: S, namespace: S, connectionSecret: obj({ name: S }) });
// RabbitMQ Cluster Operator and Messaging Topology Operator (rabbitmq.com/v1beta1).
const RABBITMQ = {
  RabbitmqCluster: obj({
    replicas: I, image: S, imagePullSecrets: list(kref('V1LocalObjectReference')),
    service: obj({ type: S, annotations: map(S), ipFamilyPolicy: S }),
    persistence: obj({ storageClassName: S, storage: 'intOrString' }),
    resources: kref('V1ResourceRequirements'), affinity: kref('V1Affinity'),
    tolerations: list(kref('V1Toleration')),
    rabbitmq: obj({ additionalPlugins: list(S), additionalConfig: S, advancedConfig: S, envConfig: S, erlangInetConfig: S }),
    tls: obj({ secretName: S, caSecretName: S, disableNonTLSListeners: B }),
    override: 'any', skipPostDeploySteps: B, terminationGracePeriodSeconds: I, delayStartSeconds: I,
    secretBackend: 'any', autoEnableAllFeatureFlags: B,
  }),
  Queue: obj({
    name: S, vhost: S, type: { enum: ['classic', 'quorum', 'stream'] }, durable: B, autoDelete: B,
    arguments: map('any'), deleteIfEmpty: B, deleteIfUnused: B, deletionPolicy: S, rabbitmqClusterReference: clusterRef,
  }, ['name', 'rabbitmqClusterReference']),
  Exchange: obj({
    name: S, vhost: S, type: { enum: ['direct', 'fanout', 'topic', 'headers'] }, durable: B, autoDelete: B,
    arguments: map('any'), deletionPolicy: S, rabbitmqClusterReference: clusterRef,
  }, ['name', 'rabbitmqClusterReference']),
  Binding: obj({
    vhost: S, source: S, destination: S, destinationType: { enum: ['queue', 'exchange'] }, routingKey: S,
    arguments: map('any'), rabbitmqClusterReference: clusterRef,
  }, ['rabbitmqClusterReference']),
  Policy: obj({
    name: S, vhost: S, pattern: S, applyTo: { enum: ['queues', 'exchanges', 'all', 'classic_queues', 'quorum_queues', 'streams'] },
    priority: I, definition: map('any'), rabbitmqClusterReference: clusterRef,
  }, ['name', 'pattern', 'definition', 'rabbitmqClusterReference']),
  User: obj({
    tags: list({ enum: ['management', 'policymaker', 'monitoring', 'administrator', 'impersonator'] }),
    importCredentialsSecret: obj({ name: S }, ['name']), rabbitmqClusterReference: clusterRef,
  }, ['rabbitmqClusterReference']),
  Permission: obj({
    vhost: S, user: S, userReference: obj({ name: S }, ['name']),
    permissions: obj({ configure: S, write: S, read: S }), rabbitmqClusterReference: clusterRef,
  }, ['vhost', 'permissions', 'rabbitmqClusterReference']),
};

// Prometheus Operator (monitoring.coreos.com/v1), the fields the overlays use
// and their common neighbours (the CRDs' OpenAPI schemas).
const endpoint = (portKey) => obj({
  [portKey]: S, targetPort: 'intOrString', path: S, interval: S, scrapeTimeout: S, scheme: { enum: ['http', 'https', 'HTTP', 'HTTPS'] },
  honorLabels: B, honorTimestamps: B, params: map(list(S)), relabelings: list('any'), metricRelabelings: list('any'),
  tlsConfig: 'any', basicAuth: 'any', bearerTokenSecret: 'any', authorization: 'any', followRedirects: B, enableHttp2: B,
});
const MONITORING = {
  PodMonitor: obj({
    jobLabel: S, podTargetLabels: list(S), podMetricsEndpoints: list(endpoint('port')), selector: kref('V1LabelSelector'),
    namespaceSelector: obj({ any: B, matchNames: list(S) }), sampleLimit: I, targetLimit: I, attachMetadata: 'any',
  }, ['selector']),
  ServiceMonitor: obj({
    jobLabel: S, targetLabels: list(S), podTargetLabels: list(S), endpoints: list(endpoint('port')), selector: kref('V1LabelSelector'),
    namespaceSelector: obj({ any: B, matchNames: list(S) }), sampleLimit: I, targetLimit: I, attachMetadata: 'any',
  }, ['selector']),
  PrometheusRule: obj({
    groups: list(obj({
      name: S, interval: S, limit: I, partial_response_strategy: S, query_offset: S,
      rules: list(obj({ alert: S, record: S, expr: 'intOrString', for: S, keep_firing_for: S, labels: map(S), annotations: map(S) }, ['expr'])),
    }, ['name'])),
  }),
};

// ---- walkers ---------------------------------------------------------------
const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

function walkK8s(value, type, path, errs) {
  if (value === null || value === undefined) return;
  let m;
  if ((m = /^Array<(.+)>$/.exec(type))) {
    if (!Array.isArray(value)) { errs.push(`${path}: expected a list`); return; }
    value.forEach((v, i) => walkK8s(v, m[1], `${path}[${i}]`, errs));
    return;
  }
  if ((m = /^\{ \[key: string\]: (.+); \}$/.exec(type))) {
    if (!isObj(value)) { errs.push(`${path}: expected a map`); return; }
    for (const [k, v] of Object.entries(value)) walkK8s(v, m[1], `${path}.${k}`, errs);
    return;
  }
  const cls = k8s[type];
  if (!cls?.getAttributeTypeMap) return; // primitives, IntOrString, any: types are checked by kubernetes-models
  if (!isObj(value)) { errs.push(`${path}: expected an object (${type})`); return; }
  const attrs = new Map(cls.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [k, v] of Object.entries(value)) {
    if (!attrs.has(k)) { errs.push(`${path}.${k}: unknown field (not in ${type})`); continue; }
    walkK8s(v, attrs.get(k), `${path}.${k}`, errs);
  }
}

function walkTree(value, node, path, errs) {
  if (value === null || value === undefined) return;
  if (typeof node === 'string') {
    const ok = { string: typeof value === 'string', integer: Number.isInteger(value), boolean: typeof value === 'boolean',
      any: true, intOrString: Number.isInteger(value) || typeof value === 'string' }[node];
    if (!ok) errs.push(`${path}: expected ${node}, got ${JSON.stringify(value)}`);
    return;
  }
  if (node.enum) { if (!node.enum.includes(value)) errs.push(`${path}: ${JSON.stringify(value)} not one of ${node.enum.join(', ')}`); return; }
  if (node.k8s) { walkK8s(value, node.k8s, path, errs); return; }
  if (node.listOf) {
    if (!Array.isArray(value)) { errs.push(`${path}: expected a list`); return; }
    value.forEach((v, i) => walkTree(v, node.listOf, `${path}[${i}]`, errs));
    return;
  }
  if (node.mapOf) {
    if (!isObj(value)) { errs.push(`${path}: expected a map`); return; }
    for (const [k, v] of Object.entries(value)) walkTree(v, node.mapOf, `${path}.${k}`, errs);
    return;
  }
  if (!isObj(value)) { errs.push(`${path}: expected an object`); return; }
  for (const r of node.required ?? []) if (!(r in value)) errs.push(`${path}.${r}: required field missing`);
  for (const [k, v] of Object.entries(value)) {
    if (!(k in node.fields)) { errs.push(`${path}.${k}: unknown field`); continue; }
    walkTree(v, node.fields[k], `${path}.${k}`, errs);
  }
}

const TOP = new Set(['apiVersion', 'kind', 'metadata', 'spec']);
const modelCache = new Map();
async function modelFor(o) {
  const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
  let mod;
  if (group === 'keda.sh') mod = `@kubernetes-models/keda/keda.sh/${version}/${o.kind}`;
  else if (group === 'monitoring.coreos.com') mod = `@kubernetes-models/prometheus-operator/monitoring.coreos.com/${version}/${o.kind}`;
  else if (group === '') mod = `kubernetes-models/${version}/${o.kind}`;
  else if (!group.includes('.') || group.endsWith('.k8s.io')) mod = `kubernetes-models/${group}/${version}/${o.kind}`;
  else return null;
  if (!modelCache.has(mod)) {
    try { modelCache.set(mod, (await import(mod))[o.kind]); } catch { modelCache.set(mod, undefined); }
  }
  return modelCache.get(mod);
}

// Validate one object. opts.keda: 'current' (default) or '2.3'.
export async function validateObject(o, opts = {}) {
  const kedaVersion = opts.keda ?? 'current';
  const where = `${o.kind}/${o.metadata?.name}`;
  const errs = [];
  const group = o.apiVersion?.includes('/') ? o.apiVersion.split('/')[0] : '';
  if (group === 'keda.sh' || group === 'rabbitmq.com' || group === 'monitoring.coreos.com') {
    const trees = group === 'rabbitmq.com' ? RABBITMQ : group === 'monitoring.coreos.com' ? MONITORING : (kedaVersion === '2.3' ? KEDA_23 : KEDA_CURRENT);
    const tree = trees[o.kind];
    if (!tree) return [`${where}: kind ${o.apiVersion} ${o.kind} is not known to the validator`];
    if (o.apiVersion !== { 'keda.sh': 'keda.sh/v1alpha1', 'rabbitmq.com': 'rabbitmq.com/v1beta1', 'monitoring.coreos.com': 'monitoring.coreos.com/v1' }[group])
      errs.push(`${where}: apiVersion ${o.apiVersion} unsupported`);
    for (const k of Object.keys(o)) if (!TOP.has(k)) errs.push(`${where}: .${k}: unknown field`);
    walkK8s(o.metadata, 'V1ObjectMeta', '.metadata', errs);
    if (!isObj(o.spec)) errs.push(`${where}: .spec: required`);
    else walkTree(o.spec, tree, '.spec', errs);
    if (group === 'keda.sh') {
      const Model = await modelFor(o);
      if (kedaVersion === 'current') {
        if (!Model) errs.push(`${where}: no @kubernetes-models/keda model`);
        else { try { new Model(o).validate(); } catch (e) { errs.push(`${where}: @kubernetes-models/keda: ${e.message}`); } }
      }
      checkKedaSemantics(o, kedaVersion, errs);
    }
    if (group === 'monitoring.coreos.com') {
      const Model = await modelFor(o);
      if (!Model) errs.push(`${where}: no @kubernetes-models/prometheus-operator model`);
      else { try { new Model(o).validate(); } catch (e) { errs.push(`${where}: @kubernetes-models/prometheus-operator: ${e.message}`); } }
    }
    return errs.map((e) => (e.startsWith(where) ? e : `${where}: ${e}`));
  }
  const Model = await modelFor(o);
  if (!Model) return [`${where}: no kubernetes-models model for ${o.apiVersion} ${o.kind}`];
  try { new Model(o).validate(); } catch (e) { errs.push(`kubernetes-models: ${e.message}`); }
  const cls = `V1${o.kind}`;
  if (!k8s[cls]?.getAttributeTypeMap) errs.push(`no field list for ${cls}`);
  else walkK8s(o, cls, '', errs);
  return errs.map((e) => `${where}: ${e}`);
}

function checkKedaSemantics(o, version, errs) {
  for (const [i, t] of (o.spec?.triggers ?? []).entries()) {
    if (t.type !== 'rabbitmq') continue;
    const md = t.metadata ?? {};
    for (const k of Object.keys(md)) {
      if (!RABBITMQ_METADATA[version].has(k)) errs.push(`.spec.triggers[${i}].metadata.${k}: unknown rabbitmq trigger parameter for KEDA ${version}`);
    }
    if (md.protocol !== undefined && !['auto', 'amqp', 'http'].includes(md.protocol)) errs.push(`.spec.triggers[${i}].metadata.protocol: '${md.protocol}' not auto|amqp|http`);
    const modes = version === '2.3' ? ['QueueLength', 'MessageRate'] : ['QueueLength', 'MessageRate', 'DeliverGetRate', 'PublishedToDeliveredRatio', 'ExpectedQueueConsumptionTime'];
    if (md.mode !== undefined && !modes.includes(md.mode)) errs.push(`.spec.triggers[${i}].metadata.mode: '${md.mode}' not one of ${modes.join('|')}`);
    const num = version === '2.3' ? /^[1-9][0-9]*$/ : /^(?:[0-9]+\.?[0-9]*|\.[0-9]+)$/;
    if (md.value !== undefined && (!num.test(md.value) || Number(md.value) <= 0)) errs.push(`.spec.triggers[${i}].metadata.value: '${md.value}' must be a ${version === '2.3' ? 'positive integer' : 'positive number'} string`);
    if (md.mode === 'QueueLength' && md.protocol === 'amqp' && md.excludeUnacknowledged) errs.push(`.spec.triggers[${i}]: excludeUnacknowledged needs protocol http`);
    if (!md.queueName) errs.push(`.spec.triggers[${i}].metadata.queueName: required`);
  }
  if (o.kind === 'TriggerAuthentication') {
    for (const [i, r] of (o.spec?.secretTargetRef ?? []).entries()) {
      if (!RABBITMQ_AUTH_PARAMS[version].has(r.parameter)) errs.push(`.spec.secretTargetRef[${i}].parameter: '${r.parameter}' is not a rabbitmq auth parameter in KEDA ${version}`);
    }
  }
}
