/**
 * What a Kubernetes API request does, read from its method, path and query the way the API server
 * reads it (k8s.io/apiserver/pkg/endpoints/request/requestinfo.go, NewRequestInfo), so that policy
 * speaks in the terms RBAC uses: verb, resource (with its API group), namespace, name, subresource.
 * Pure; the path is the normalised one (see http/request-target.ts) that is also forwarded.
 */

export interface KubeRequestInfo {
  /** Resource requests use RBAC verbs (get, list, watch, create, update, patch, delete, deletecollection, proxy); others the lower-case method. */
  verb: string;
  isResourceRequest: boolean;
  /** Plural resource, with its group unless core: `pods`, `deployments.apps`. Empty for non-resource paths. */
  resource: string;
  apiGroup: string;
  apiVersion: string;
  namespace: string;
  name: string;
  subresource: string;
}

export class KubeRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KubeRequestError';
  }
}

const API_PREFIXES = new Set(['api', 'apis']);
const GROUPLESS_PREFIXES = new Set(['api']);
/** Verbs that can appear as the first path segment after the version. */
const SPECIAL_VERBS = new Set(['proxy', 'watch']);
/** Special verbs whose remaining path is not a subresource. */
const SPECIAL_VERBS_NO_SUBRESOURCES = new Set(['proxy']);
/** What can follow /namespaces/{name} and still be about the namespace itself. */
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);
/**
 * Subresources that open a stream over an upgraded connection. Since Kubernetes 1.30 the API server
 * requires `create` on them even when kubectl opens them with a WebSocket GET
 * (AuthorizePodWebsocketUpgradeCreatePermission), and so does airlock: a rule on `create pods/exec`
 * holds both the SPDY (POST) and the WebSocket (GET) form.
 */
const STREAMING_POD_SUBRESOURCES = new Set(['exec', 'attach', 'portforward']);

const METHOD_VERBS: Record<string, string> = { POST: 'create', GET: 'get', HEAD: 'get', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };

/** `query` is the raw query string without `?` (undefined when there is none). */
export function kubeRequestInfo(method: string, path: string, query: string | undefined): KubeRequestInfo {
  const upper = method.toUpperCase();
  const info: KubeRequestInfo = {
    verb: upper.toLowerCase(), isResourceRequest: false, resource: '', apiGroup: '', apiVersion: '', namespace: '', name: '', subresource: '',
  };
  let parts = path.split('/').filter((p) => p !== '');
  if (parts.length < 3 || !API_PREFIXES.has(parts[0]!)) return info;
  const prefix = parts[0]!;
  parts = parts.slice(1);
  if (!GROUPLESS_PREFIXES.has(prefix)) {
    if (parts.length < 3) return info; // /apis/{group}/{version}: discovery, not a resource
    info.apiGroup = parts[0]!;
    parts = parts.slice(1);
  }
  info.isResourceRequest = true;
  info.apiVersion = parts[0]!;
  parts = parts.slice(1);

  if (SPECIAL_VERBS.has(parts[0]!)) {
    if (parts.length < 2) throw new KubeRequestError(`airlock: cannot tell the resource of ${upper} ${path}`);
    info.verb = parts[0]!;
    parts = parts.slice(1);
  } else {
    info.verb = METHOD_VERBS[upper] ?? '';
  }

  if (parts[0] === 'namespaces') {
    if (parts.length > 1) {
      info.namespace = parts[1]!;
      if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2]!)) parts = parts.slice(2);
    }
  }

  let resource = '';
  if (parts.length >= 3 && !SPECIAL_VERBS_NO_SUBRESOURCES.has(info.verb)) info.subresource = parts[2]!;
  if (parts.length >= 2) info.name = parts[1]!;
  if (parts.length >= 1) resource = parts[0]!;
  info.resource = info.apiGroup && resource ? `${resource}.${info.apiGroup}` : resource;

  const params = new URLSearchParams(query ?? '');
  if (info.name === '' && info.verb === 'get') {
    info.verb = watchRequested(params) ? 'watch' : 'list';
    const named = fieldSelectorName(params.get('fieldSelector'));
    if (named !== undefined) info.name = named;
  }
  if (info.name === '' && info.verb === 'delete') info.verb = 'deletecollection';
  if (resource === 'pods' && info.apiGroup === '' && STREAMING_POD_SUBRESOURCES.has(info.subresource) && info.verb === 'get') info.verb = 'create';
  return info;
}

/** As the API server converts `watch`: any value but 0, f or false (in any case) turns it on. */
function watchRequested(params: URLSearchParams): boolean {
  const values = params.getAll('watch');
  if (values.length === 0) return false;
  return !['0', 'f', 'false'].includes(values[0]!.toLowerCase());
}

/**
 * `fieldSelector=metadata.name=web-0` narrows a list or watch to one object, and the API server then
 * reports that name (kubectl get pod web-0 --watch uses it), so name rules apply to it too.
 */
function fieldSelectorName(selector: string | null): string | undefined {
  if (!selector) return undefined;
  for (const term of splitUnescaped(selector, ',')) {
    const match = /^(.*?)(==|=|!=)(.*)$/s.exec(term);
    if (!match) continue;
    const [, field, op, value] = match;
    if (unescapeSelector(field!.trim()) !== 'metadata.name' || op === '!=') continue;
    const name = unescapeSelector(value!.trim());
    if (name !== '' && name !== '.' && name !== '..' && !/[/%]/.test(name)) return name;
  }
  return undefined;
}

function splitUnescaped(text: string, separator: string): string[] {
  const out: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length) {
      current += c + text[++i];
    } else if (c === separator) {
      out.push(current);
      current = '';
    } else current += c;
  }
  out.push(current);
  return out;
}

function unescapeSelector(text: string): string {
  return text.replace(/\\(.)/g, '$1');
}
