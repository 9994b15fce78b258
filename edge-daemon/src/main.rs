fn main() {
    println!("baytrace-edge: not yet");
}
