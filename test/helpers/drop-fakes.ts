/** Hand-written fakes of the drop-mark port: one shared table (what full replication converges to), a store per writer region. */
import type { PceDropMark, PceDropStore } from '../../shared/supercluster/membership.ts';

export class FakeDropTable {
  readonly items = new Map<string, PceDropMark>();

  store(region: string): PceDropStore {
    return {
      list: async () => [...this.items.values()],
      put: async (mark) => {
        this.items.set(`${mark.pceFqdn}#${region}`, { ...mark, originRegion: region });
      },
    };
  }
}
