// The grants the readiness check asks the API about are the ones the shipped RBAC gives, both ways:
// nothing checked that the file does not grant, and nothing the reader needs left unchecked.
import { grantName, READER_GRANTS, READER_RBAC_FILE } from '../../../src/adapters/kubernetes-access';
import { shippedGrants } from '../../support/rbac';

it(`checks exactly the reader's grants of ${READER_RBAC_FILE} (Argo Rollouts aside)`, () => {
  const shipped = shippedGrants([READER_RBAC_FILE]);
  const checked = READER_GRANTS.map(grantName);
  for (const grant of checked) expect(shipped).toContain(grant);
  // Argo Rollouts are read when their CRD exists; a cluster without them must not look broken.
  expect([...shipped].filter((g) => !checked.includes(g)).sort()).toEqual(['get rollouts.argoproj.io']);
});
