//! Issue 18: the compare screen and the live training view under zh show no
//! English from the string table.
