import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../shared/api/errors.ts';
import { LabelService } from '../../shared/labels/label-service.ts';
import { LeaderView } from '../../shared/supercluster/leader.ts';
import { FakeLabelStore, FakeLeaderStore } from '../helpers/fakes.ts';

describe('LabelService.delete', () => {
  const setup = (uses: string[]) => {
    const leaderStore = new FakeLeaderStore({ leaderRegion: 'us-east-1', leaderFqdn: 'us', epoch: 1, assignedAt: 0, previousLeaderFqdn: null });
    const store = new FakeLabelStore(leaderStore);
    const service = new LabelService({ labels: store, leader: new LeaderView(leaderStore, 'us-east-1', 0), usesOf: async () => uses });
    return { store, service };
  };
  const actor = { orgId: 1, userId: 1 };

  it('refuses a label still used by policy or workloads with 406 label_in_use, and keeps it', async () => {
    const { store, service } = setup(['draft or active policy objects', '2 workload(s)']);
    const label = await service.create(actor, { key: 'role', value: 'web' });
    const refused = service.delete(actor, label.id);
    await expect(refused).rejects.toBeInstanceOf(ValidationError);
    await expect(refused).rejects.toMatchObject({ errors: [{ token: 'label_in_use', message: expect.stringContaining('2 workload(s)') }] });
    expect(store.labels.has(label.id)).toBe(true);
  });

  it('deletes an unused label', async () => {
    const { store, service } = setup([]);
    const label = await service.create(actor, { key: 'role', value: 'web' });
    await service.delete(actor, label.id);
    expect(store.labels.has(label.id)).toBe(false);
  });
});
