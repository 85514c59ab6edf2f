/** A view draws into `root` and returns what stops it (listeners, timers, followers). */
export type View = (root: HTMLElement, param?: string) => () => void;
