/** cli — the `thicket` command. */
export { main } from './main.ts';
