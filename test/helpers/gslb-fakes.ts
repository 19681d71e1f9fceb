/** Hand-written fakes of the GSLB switch port: one shared table, a store per writer region. */
import type { GslbSwitchItem, GslbSwitchStore } from '../../shared/supercluster/gslb-switch.ts';

/** The switch items of every region (what full replication would converge to). */
export class FakeSwitchTable {
  readonly items = new Map<string, GslbSwitchItem>();
  reads = 0;
  failReads = false;

  store(region: string): GslbSwitchStore {
    return {
      list: async (pceFqdn) => {
        this.reads++;
        if (this.failReads) throw new Error('replica unreachable');
        return [...this.items.values()].filter((i) => i.pceFqdn === pceFqdn);
      },
      put: async (item) => {
        this.items.set(`${item.pceFqdn}#${region}`, { ...item, originRegion: region });
      },
    };
  }
}
