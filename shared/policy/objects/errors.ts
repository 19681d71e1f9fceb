/** Storage outcomes the policy use cases react to (the adapters throw them; the use cases translate them). */
export abstract class PolicyStoreError extends Error {}

/** The drafts changed between read and write (another write on the leader got there first): retry. */
export class DraftChangedError extends PolicyStoreError {
  override readonly name: string = 'DraftChangedError';
}

/** The active version changed between read and provision (a concurrent provision): retry. */
export class ActivePolicyChangedError extends PolicyStoreError {
  override readonly name: string = 'ActivePolicyChangedError';
}

/** An object does not fit in one stored item (a rule set with very many or very large rules). */
export class PolicyObjectTooLargeError extends PolicyStoreError {
  override readonly name: string = 'PolicyObjectTooLargeError';
}
