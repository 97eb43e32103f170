/** The seeding helpers live in src/bench/seed.ts (the `messagedb bench` command uses them too); bench/memory*.ts import them from here. */
export { countdown, seedCategory, seededType } from '../src/bench/seed.ts';
