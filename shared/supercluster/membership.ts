/** Supercluster membership: one item per PCE, written by the leader. */
export interface PceMember {
  readonly fqdn: string;
  readonly region: string;
  readonly buddy: string;
  readonly continents: readonly string[];
  readonly joinedAt: number;
}

export interface MembershipStore {
  list(): Promise<PceMember[]>;
  /** Adds the PCE unless it is already a member. */
  addIfAbsent(member: PceMember): Promise<void>;
}

export interface Org {
  readonly id: number;
  readonly name: string;
  readonly createdAt: number;
}

export interface User {
  readonly id: number;
  readonly orgId: number;
  readonly username: string;
  readonly fullName: string;
}

export interface DirectoryStore {
  getOrg(orgId: number): Promise<Org | null>;
  putOrgIfAbsent(org: Org): Promise<void>;
  getUser(userId: number): Promise<User | null>;
  putUserIfAbsent(user: User): Promise<void>;
}
