package link

// MarkerParam is the query parameter the redirect adds to a target, when
// the landing marker is on, with the link's code as its value. The landing
// beacon reads it to tell a visit through a short link, then removes it
// from the address bar so that a reader who copies the address does not
// pass it on.
const MarkerParam = "dsl"
