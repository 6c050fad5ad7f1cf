import { describe, expect, it } from 'vitest';
import { classifyKubeRequest } from './classifier.js';
import { KubeRequestError } from './request-info.js';

type Row = [method: string, target: string, verb: string, resource: string, namespace: string, name: string, subresource: string];

// Paths as kubectl sends them (seen with kubectl -v=8), read as the API server's request-info filter reads them.
const table: Row[] = [
  // discovery and other non-resource paths: the lower-case method is the verb
  ['GET', '/api?timeout=32s', 'get', '', '', '', ''],
  ['GET', '/apis?timeout=32s', 'get', '', '', '', ''],
  ['GET', '/api/v1?timeout=32s', 'get', '', '', '', ''],
  ['GET', '/apis/apps/v1?timeout=32s', 'get', '', '', '', ''],
  ['GET', '/version?timeout=32s', 'get', '', '', '', ''],
  ['GET', '/openapi/v2?timeout=32s', 'get', '', '', '', ''],
  ['GET', '/openapi/v3/apis/apps/v1', 'get', '', '', '', ''],
  ['GET', '/healthz', 'get', '', '', '', ''],
  ['POST', '/logs', 'post', '', '', '', ''],
  // core resources
  ['GET', '/api/v1/namespaces/prod/pods?limit=500', 'list', 'pods', 'prod', '', ''],
  ['GET', '/api/v1/namespaces/prod/pods/web-0', 'get', 'pods', 'prod', 'web-0', ''],
  ['HEAD', '/api/v1/namespaces/prod/pods/web-0', 'get', 'pods', 'prod', 'web-0', ''],
  ['GET', '/api/v1/pods?limit=500', 'list', 'pods', '', '', ''],
  ['GET', '/api/v1/nodes', 'list', 'nodes', '', '', ''],
  ['GET', '/api/v1/nodes/node-1', 'get', 'nodes', '', 'node-1', ''],
  ['POST', '/api/v1/namespaces/prod/pods?fieldManager=kubectl-run', 'create', 'pods', 'prod', '', ''],
  ['PUT', '/api/v1/namespaces/prod/configmaps/settings', 'update', 'configmaps', 'prod', 'settings', ''],
  ['PATCH', '/api/v1/namespaces/prod/pods/web-0?fieldManager=kubectl-label', 'patch', 'pods', 'prod', 'web-0', ''],
  ['DELETE', '/api/v1/namespaces/prod/pods/web-0', 'delete', 'pods', 'prod', 'web-0', ''],
  ['DELETE', '/api/v1/namespaces/prod/pods?labelSelector=app%3Dweb', 'deletecollection', 'pods', 'prod', '', ''],
  ['OPTIONS', '/api/v1/namespaces/prod/pods', '', 'pods', 'prod', '', ''],
  // namespaces themselves
  ['GET', '/api/v1/namespaces', 'list', 'namespaces', '', '', ''],
  ['GET', '/api/v1/namespaces/prod', 'get', 'namespaces', 'prod', 'prod', ''],
  ['DELETE', '/api/v1/namespaces/prod', 'delete', 'namespaces', 'prod', 'prod', ''],
  ['PUT', '/api/v1/namespaces/prod/finalize', 'update', 'namespaces', 'prod', 'prod', 'finalize'],
  ['GET', '/api/v1/namespaces/prod/status', 'get', 'namespaces', 'prod', 'prod', 'status'],
  // watch: by query (any value but 0/f/false) or the legacy /watch/ prefix
  ['GET', '/api/v1/namespaces/prod/pods?watch=true', 'watch', 'pods', 'prod', '', ''],
  ['GET', '/api/v1/namespaces/prod/pods?watch=1&resourceVersion=42', 'watch', 'pods', 'prod', '', ''],
  ['GET', '/api/v1/namespaces/prod/pods?watch=', 'watch', 'pods', 'prod', '', ''],
  ['GET', '/api/v1/namespaces/prod/pods?watch=false', 'list', 'pods', 'prod', '', ''],
  ['GET', '/api/v1/namespaces/prod/pods?watch=F', 'list', 'pods', 'prod', '', ''],
  ['GET', '/api/v1/namespaces/prod/pods?fieldSelector=metadata.name%3Dweb-0&watch=true', 'watch', 'pods', 'prod', 'web-0', ''],
  ['GET', '/api/v1/namespaces/prod/pods?fieldSelector=metadata.name%3D%3Dweb-0', 'list', 'pods', 'prod', 'web-0', ''],
  ['GET', '/api/v1/namespaces/prod/pods?fieldSelector=status.phase%3DRunning%2Cmetadata.name%3Dweb-1', 'list', 'pods', 'prod', 'web-1', ''],
  ['GET', '/api/v1/namespaces/prod/pods?fieldSelector=metadata.name%21%3Dweb-0', 'list', 'pods', 'prod', '', ''],
  ['GET', '/api/v1/watch/namespaces/prod/pods', 'watch', 'pods', 'prod', '', ''],
  ['GET', '/api/v1/watch/namespaces/prod/pods/web-0', 'watch', 'pods', 'prod', 'web-0', ''],
  ['GET', '/apis/apps/v1/watch/deployments', 'watch', 'deployments.apps', '', '', ''],
  // subresources
  ['GET', '/api/v1/namespaces/prod/pods/web-0/log?container=app&follow=true', 'get', 'pods', 'prod', 'web-0', 'log'],
  ['POST', '/api/v1/namespaces/prod/pods/web-0/exec?command=sh&container=app&stdin=true&stdout=true&tty=true', 'create', 'pods', 'prod', 'web-0', 'exec'],
  ['GET', '/api/v1/namespaces/prod/pods/web-0/exec?command=date&container=app&stdout=true', 'create', 'pods', 'prod', 'web-0', 'exec'],
  ['POST', '/api/v1/namespaces/prod/pods/web-0/attach?container=app&stdin=true', 'create', 'pods', 'prod', 'web-0', 'attach'],
  ['POST', '/api/v1/namespaces/prod/pods/web-0/portforward', 'create', 'pods', 'prod', 'web-0', 'portforward'],
  ['GET', '/api/v1/namespaces/prod/pods/web-0/portforward?ports=8080', 'create', 'pods', 'prod', 'web-0', 'portforward'],
  ['POST', '/api/v1/namespaces/prod/pods/web-0/eviction', 'create', 'pods', 'prod', 'web-0', 'eviction'],
  ['PATCH', '/api/v1/namespaces/prod/pods/web-0/status', 'patch', 'pods', 'prod', 'web-0', 'status'],
  ['GET', '/api/v1/namespaces/prod/services/web:http/proxy/healthz', 'get', 'services', 'prod', 'web:http', 'proxy'],
  ['GET', '/api/v1/namespaces/prod/pods/web-0/proxy/metrics', 'get', 'pods', 'prod', 'web-0', 'proxy'],
  // the legacy proxy verb takes the rest of the path as the target, not a subresource
  ['GET', '/api/v1/proxy/namespaces/prod/pods/web-0/metrics', 'proxy', 'pods', 'prod', 'web-0', ''],
  // grouped resources carry their group
  ['GET', '/apis/apps/v1/namespaces/prod/deployments?limit=500', 'list', 'deployments.apps', 'prod', '', ''],
  ['GET', '/apis/apps/v1/namespaces/prod/deployments/web', 'get', 'deployments.apps', 'prod', 'web', ''],
  ['PATCH', '/apis/apps/v1/namespaces/prod/deployments/web/scale', 'patch', 'deployments.apps', 'prod', 'web', 'scale'],
  ['DELETE', '/apis/batch/v1/namespaces/prod/jobs/migrate?propagationPolicy=Background', 'delete', 'jobs.batch', 'prod', 'migrate', ''],
  ['GET', '/apis/rbac.authorization.k8s.io/v1/clusterroles', 'list', 'clusterroles.rbac.authorization.k8s.io', '', '', ''],
  ['POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', 'create', 'selfsubjectaccessreviews.authorization.k8s.io', '', '', ''],
  ['GET', '/apis/metrics.k8s.io/v1beta1/namespaces/prod/pods', 'list', 'pods.metrics.k8s.io', 'prod', '', ''],
  ['GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com', 'get', 'customresourcedefinitions.apiextensions.k8s.io', '', 'widgets.example.com', ''],
  // normalised before it is read, so a spelled-differently path is read the way the server routes it
  ['DELETE', '/api/v1/namespaces/dev/../prod/pods/web-0', 'delete', 'pods', 'prod', 'web-0', ''],
  ['DELETE', '//api/v1//namespaces/prod/pods/%77eb-0', 'delete', 'pods', 'prod', 'web-0', ''],
];

describe('kubeRequestInfo', () => {
  it.each(table)('%s %s → %s %s ns=%s name=%s sub=%s', (method, target, verb, resource, namespace, name, subresource) => {
    const { request } = classifyKubeRequest(method, target);
    expect({ verb: request.verb, resource: request.resource, namespace: request.namespace, name: request.name, subresource: request.subresource }).toEqual({
      verb, resource, namespace, name, subresource,
    });
  });

  it('keeps the whole target in the text and the normalised path for path rules', () => {
    const { request, info } = classifyKubeRequest('get', '/apis/apps/v1/namespaces/prod/deployments?limit=500');
    expect(request).toMatchObject({ protocol: 'kubernetes', method: 'GET', path: '/apis/apps/v1/namespaces/prod/deployments', text: 'GET /apis/apps/v1/namespaces/prod/deployments?limit=500' });
    expect(info).toMatchObject({ isResourceRequest: true, apiGroup: 'apps', apiVersion: 'v1' });
  });

  it('refuses a special verb without a resource, as the API server does', () => {
    expect(() => classifyKubeRequest('GET', '/api/v1/watch')).toThrow(KubeRequestError);
  });
});
