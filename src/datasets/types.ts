export interface Clip {
  /** Absolute path. */
  file: string;
  label: string;
  sha256?: string;
}

export interface Dataset {
  name: string;
  /** Where the list came from (manifest path, folder, CSV). */
  source: string;
  /** Clip names in reports are relative to this folder. */
  root: string;
  clips: Clip[];
  /**
   * Listed clips that had no file and were dropped, set only when the caller allowed that: a report on the
   * rest must be able to say it is not the whole list.
   */
  missingClips?: number;
}

export interface LoadOptions {
  /**
   * Drop listed clips whose file is absent instead of refusing the list. Mirrors of the real Kinetics
   * validation set always lack some YouTube clips, so refusing would make them unusable; it is opt-in so a
   * typo in a small list still stops the run.
   */
  allowMissing?: boolean;
}

export const VIDEO = /\.(mp4|avi|mkv|webm|gif|mov|m4v|mpg|mpeg)$/i;

/** Dotfiles are editor, OS or sync debris (.DS_Store, ._clip.mp4), never clips the user meant. */
export function isHidden(name: string): boolean {
  return name.startsWith('.');
}
