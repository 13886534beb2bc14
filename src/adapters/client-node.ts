// The one door to @kubernetes/client-node: every adapter imports it from here, never from the
// package (a lint rule holds that). The build replaces this file's output with a bundle of just
// these names, tree-shaken and minified (src/tools/bundle-client-node.ts): the package's index
// loads all 65 generated API classes and its models, about 75 MiB of a process that uses five of
// them; the bundle costs about 30. Tests (jest) read this file as written, with the whole package.
export {
  ApiException,
  AppsV1Api,
  AuthorizationV1Api,
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  Observable,
  PatchStrategy,
  ResponseContext,
  setHeaderOptions,
} from '@kubernetes/client-node';
export type { Cluster, HttpLibrary, RequestContext, User } from '@kubernetes/client-node';
