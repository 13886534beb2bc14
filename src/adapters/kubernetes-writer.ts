// The only code that changes a cluster: strategic-merge patches of a workload's pod template (dry
// run or for real), optionally as another identity through the API's impersonation headers, the
// access review that asks first, and the reads that follow a rollout. Loaded only where jobs run.
import * as http from 'node:http';
import * as https from 'node:https';
import {
  ApiException,
  AppsV1Api,
  AuthorizationV1Api,
  BatchV1Api,
  CoreV1Api,
  type KubeConfig,
  Observable,
  PatchStrategy,
  ResponseContext,
  setHeaderOptions,
  type HttpLibrary,
  type RequestContext,
} from './client-node';
import type { ApiObject, KubeIdentity, PatchableKind, WorkloadId } from '../core/kubernetes-types';
import { ConflictError, PatchRejectedError, type AccessCheck, type ClusterWriter } from './cluster-writer';
import { ForbiddenError, NotFoundError } from './errors';
import { statusMessage, translate } from './kubernetes';

/**
 * An HttpLibrary that sends the request with impersonation headers, one Impersonate-Group line per
 * group (the API reads repeated headers; a comma-joined value would be one group with a comma in it).
 * node-fetch, client-node's own library, can only send one line per header name.
 */
export function impersonatingHttp(identity: KubeIdentity): HttpLibrary {
  return {
    send(context: RequestContext): Observable<ResponseContext> {
      const promise = new Promise<ResponseContext>((resolve, reject) => {
        const url = new URL(context.getUrl());
        const headers: http.OutgoingHttpHeaders = { ...context.getHeaders() };
        for (const key of Object.keys(headers)) if (/^impersonate-/i.test(key)) delete headers[key];
        headers['Impersonate-User'] = identity.user;
        if (identity.groups.length > 0) headers['Impersonate-Group'] = [...identity.groups];
        const body = context.getBody();
        const transport = url.protocol === 'https:' ? https : http;
        const signal = context.getSignal();
        const request = transport.request(
          url,
          {
            method: context.getHttpMethod(),
            headers,
            agent: context.getAgent(),
            ...(signal ? { signal } : {}),
          },
          (response) => {
            const chunks: Buffer[] = [];
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            response.on('error', reject);
            response.on('end', () => {
              const bytes = Buffer.concat(chunks);
              const responseHeaders: Record<string, string> = {};
              for (const [key, value] of Object.entries(response.headers))
                if (value !== undefined)
                  responseHeaders[key] = Array.isArray(value) ? value.join(', ') : value;
              resolve(
                new ResponseContext(response.statusCode ?? 0, responseHeaders, {
                  text: async () => bytes.toString('utf8'),
                  binary: async () => bytes,
                }),
              );
            });
          },
        );
        request.on('error', reject);
        if (body === undefined || body === null) request.end();
        else
          request.end(typeof body === 'string' ? body : Buffer.isBuffer(body) ? body : JSON.stringify(body));
      });
      return new Observable(promise);
    },
  };
}

export class KubernetesWriter implements ClusterWriter {
  readonly description: string;
  private readonly apps: AppsV1Api;
  private readonly batch: BatchV1Api;
  private readonly core: CoreV1Api;
  private readonly authz: AuthorizationV1Api;

  constructor(kc: KubeConfig) {
    this.description = kc.getCurrentCluster()?.server ?? '(unknown server)';
    this.apps = kc.makeApiClient(AppsV1Api);
    this.batch = kc.makeApiClient(BatchV1Api);
    this.core = kc.makeApiClient(CoreV1Api);
    this.authz = kc.makeApiClient(AuthorizationV1Api);
  }

  private fail(error: unknown, what: string): Error {
    if (error instanceof ApiException) {
      const message = statusMessage(error);
      if (error.code === 409)
        return new ConflictError(`${what} changed while the patch was on its way: ${message}`);
      if (error.code === 400 || error.code === 422) return new PatchRejectedError(error.code, message);
      // A webhook may refuse with 403 too; RBAC's 403 names the verb and resource.
      if (error.code === 403 && /^admission webhook/.test(message))
        return new PatchRejectedError(403, message);
    }
    return translate(error, what, this.description);
  }

  async read(kind: PatchableKind, namespace: string, name: string): Promise<ApiObject | null> {
    const args = { namespace, name };
    try {
      switch (kind) {
        case 'Deployment':
          return await this.apps.readNamespacedDeployment(args);
        case 'StatefulSet':
          return await this.apps.readNamespacedStatefulSet(args);
        case 'DaemonSet':
          return await this.apps.readNamespacedDaemonSet(args);
        case 'CronJob':
          return await this.batch.readNamespacedCronJob(args);
      }
    } catch (error) {
      const failure = this.fail(error, `${kind} ${namespace}/${name}`);
      if (failure instanceof NotFoundError) return null;
      throw failure;
    }
  }

  async patch(
    workload: WorkloadId,
    body: Record<string, unknown>,
    options: { dryRun: boolean; as: KubeIdentity | null },
  ): Promise<ApiObject> {
    const { kind, namespace, name } = workload;
    const params = {
      namespace,
      name,
      body,
      fieldManager: 'oomdoctor',
      ...(options.dryRun ? { dryRun: 'All' } : {}),
    };
    // Without the Content-Type option client-node sends a JSON Patch (RFC 6902), which this body is not.
    const config = {
      ...setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
      ...(options.as ? { httpApi: impersonatingHttp(options.as) } : {}),
    };
    try {
      switch (kind) {
        case 'Deployment':
          return await this.apps.patchNamespacedDeployment(params, config);
        case 'StatefulSet':
          return await this.apps.patchNamespacedStatefulSet(params, config);
        case 'DaemonSet':
          return await this.apps.patchNamespacedDaemonSet(params, config);
        case 'CronJob':
          return await this.batch.patchNamespacedCronJob(params, config);
      }
    } catch (error) {
      throw this.fail(error, `${kind} ${namespace}/${name}`);
    }
  }

  async canI(
    check: AccessCheck,
    as: KubeIdentity | null,
  ): Promise<{ allowed: boolean; reason: string | null }> {
    const body = {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: {
        resourceAttributes: {
          verb: check.verb,
          group: check.group,
          resource: check.resource,
          namespace: check.namespace,
          ...(check.name ? { name: check.name } : {}),
        },
      },
    };
    try {
      const review = await this.authz.createSelfSubjectAccessReview(
        { body },
        as ? { httpApi: impersonatingHttp(as) } : undefined,
      );
      return {
        allowed: review.status?.allowed === true,
        reason: review.status?.reason ?? review.status?.evaluationError ?? null,
      };
    } catch (error) {
      throw this.fail(error, 'a SelfSubjectAccessReview');
    }
  }

  async listPods(namespace: string, labelSelector: string): Promise<ApiObject[]> {
    try {
      const list = await this.core.listNamespacedPod({ namespace, labelSelector });
      return list.items;
    } catch (error) {
      throw this.fail(error, `pods in ${namespace}`);
    }
  }
}

export { ForbiddenError };
export {
  ConflictError,
  missingPermission,
  PatchRejectedError,
  resourceOf,
  type AccessCheck,
  type ClusterWriter,
} from './cluster-writer';
