// The map's class colours: one fixed colour per class, 26 that stay apart on the map's dark
// background (Gravity Spy's 22 classes, None_of_the_Above and new ones), and grey for
// glitches nobody has labelled. A class keeps its colour as long as the set of names shown
// is the same (colours go by the sorted names); beyond 26 classes they repeat.
export const UNLABELLED = "unlabelled";
export const UNLABELLED_COLOUR = "#6b7280";
export const PALETTE = [
  "#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231", "#b15ce0", "#46f0f0", "#f032e6",
  "#bcf60c", "#fabebe", "#2ab3a6", "#e6beff", "#c48a3f", "#fffac8", "#ff6f61", "#aaffc3",
  "#b5b53c", "#ffd8b1", "#7f9fff", "#ffffff", "#ff6fa8", "#00a2ff", "#8ee000", "#ffb000",
  "#c9a0dc", "#1fd18b",
];

// name -> colour for the names on the map (unlabelled grey, the rest in sorted order).
export function coloursFor(names) {
  const classes = [...new Set(names)].filter((n) => n !== UNLABELLED).sort();
  const colours = new Map(classes.map((name, i) => [name, PALETTE[i % PALETTE.length]]));
  colours.set(UNLABELLED, UNLABELLED_COLOUR);
  return colours;
}
