echo "usage: ./run demo | ./run test | ./run bench [NAME]"
