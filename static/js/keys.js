// What the keyboard pages share.

// A key counts only this long after what it decides is all on screen: a key held down goes on
// repeating into the next glitch (or suspect) as it appears, and a press a moment after it
// appeared decides something nobody looked at. The labelling page (label.js) and the review
// page (review/review.js).
export const MIN_VIEW_MS = 250;
