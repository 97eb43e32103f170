/**
 * Who in an elastic group should hold how many partitions: pure arithmetic over the group's
 * advisory locks as the lease session last read them.
 */

/** One lock of the group: its second key, the backend holding it, and how long that backend has been idle (null: busy or unknown). */
export interface GroupLock {
  key: number;
  pid: number;
  idleMs: number | null;
}

/** The group as one look at its locks shows it. */
export interface GroupView {
  /** Live members' keys, ascending: a member's rank is its place here. */
  members: number[];
  /** The holder (backend pid) of each held partition. */
  owners: Map<number, number>;
  /** Backends that hold group locks but have been silent past the lease timeout. */
  silent: number[];
}

/** Read the group from its locks; `partitions` separates partition keys (below) from member keys. */
export function groupView(locks: readonly GroupLock[], partitions: number, leaseTimeoutMs: number, ownPid: number): GroupView {
  const silent = new Set<number>();
  for (const lock of locks) if (lock.pid !== ownPid && lock.idleMs !== null && lock.idleMs > leaseTimeoutMs) silent.add(lock.pid);
  const members: number[] = [];
  const owners = new Map<number, number>();
  for (const lock of locks) {
    if (lock.key < partitions) owners.set(lock.key, lock.pid);
    else if (!silent.has(lock.pid)) members.push(lock.key);
  }
  members.sort((a, b) => a - b);
  return { members, owners, silent: [...silent] };
}

/** How many of `partitions` the member of rank `rank` among `members` holds: an even share, the first ranks one more. */
export function fairShare(partitions: number, members: number, rank: number): number {
  if (members <= 0 || rank < 0) return 0;
  return Math.floor(partitions / members) + (rank < partitions % members ? 1 : 0);
}

/** What a member does next: partitions to give up (its highest), and free ones to try to take, in order. */
export interface SharePlan {
  target: number;
  release: number[];
  acquire: number[];
}

/**
 * The next step towards this member's fair share. It keeps what it holds up to its share (so a
 * rebalance moves as few partitions as it can) and takes only partitions nobody holds, or whose
 * holder is silent (their locks go once that holder's session is ended).
 */
export function planShare(view: GroupView, partitions: number, ownKey: number, ownPid: number, owned: ReadonlySet<number>): SharePlan {
  const rank = view.members.indexOf(ownKey);
  const target = fairShare(partitions, view.members.length, rank);
  const held = [...owned].sort((a, b) => a - b);
  if (held.length > target) return { target, release: held.slice(target).reverse(), acquire: [] };
  const acquire: number[] = [];
  const silent = new Set(view.silent);
  for (let partition = 0; partition < partitions && acquire.length < target - held.length; partition++) {
    if (owned.has(partition)) continue;
    const owner = view.owners.get(partition);
    if (owner === undefined || (owner !== ownPid && silent.has(owner))) acquire.push(partition);
  }
  return { target, release: [], acquire };
}
